/**
 * Lambda code staged on this machine (never in Docker): a layer's files are
 * copied into CDK's output folder at synth time; files a function carries
 * beside its bundle are copied by shell commands after esbuild's.
 */
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';

export interface StagedFile {
  /** Absolute path on this machine. */
  readonly from: string;
  /** Path inside the layer (which Lambda mounts at /opt). */
  readonly to: string;
}

export function stagedLayerCode(sourceDir: string, files: () => readonly StagedFile[], assetHash?: string): Code {
  return Code.fromAsset(sourceDir, {
    ...(assetHash ? { assetHashType: AssetHashType.CUSTOM, assetHash } : {}),
    bundling: {
      // Required by the API; never pulled, because local bundling always succeeds.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/busybox:latest'),
      local: {
        tryBundle(outputDir: string): boolean {
          for (const file of files()) {
            const target = join(outputDir, file.to);
            mkdirSync(dirname(target), { recursive: true });
            cpSync(file.from, target, { recursive: true });
          }
          return true;
        },
      },
    },
  });
}

/** Shell commands copying files into a bundle's output folder (a NodejsFunction's afterBundling hook), as stagedLayerCode copies them. */
export function copyCommands(files: readonly StagedFile[], outputDir: string): string[] {
  return files.map((file) => {
    const target = join(outputDir, file.to);
    return `mkdir -p ${shellQuoted(dirname(target))} && cp -R ${shellQuoted(file.from)} ${shellQuoted(target)}`;
  });
}

function shellQuoted(path: string): string {
  return `'${path.replaceAll("'", `'\\''`)}'`;
}

/**
 * Lambda layer code staged on this machine (never in Docker): a function
 * copies what the layer needs into CDK's output folder at synth time.
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

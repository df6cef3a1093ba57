/**
 * How the input ledger's partitions are named. A scope is
 * `<deployment id>[#gen-<n>]#<model>#<target bucket>/<target prefix>`: the
 * ledger remembers finished inputs per deployment *generation* (a deployment
 * deleted and created again under its name is a new one: none of its inputs
 * is done yet) and per what scored them (a deployment redeployed with another
 * model or target starts with a clean slate too). The first generation has no
 * `#gen-` part, as every scope had before generations existed. Every scope
 * starts with `<deployment id>#`: the scorer's IAM policy names its own so.
 */

/** Whose inputs a scope holds: the deployment id, plus `#gen-<n>` from its second generation on. */
export function ledgerOwner(deploymentId: string, generation: number): string {
  return generation > 0 ? `${deploymentId}#gen-${generation}` : deploymentId;
}

export function ledgerScope(owner: string, model: string, target: { readonly bucket: string; readonly prefix: string }): string {
  return `${owner}#${model}#${target.bucket}/${target.prefix}`;
}

/** The owner part of a scope (the model part is never `gen-…`: a fingerprint or `unloaded`). */
export function ownerOfScope(scope: string): string {
  const [id = '', second] = scope.split('#');
  return second?.startsWith('gen-') ? `${id}#${second}` : id;
}

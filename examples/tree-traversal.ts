/**
 * Parallel binary tree traversal (SCOOP's `tree_traversal.py`): a random binary search tree is
 * built once and shared as a constant; the depth of its longest branch is found by tasks that
 * split at each node down to `parallelLevel`, then walk their branch serially. The answer is
 * checked against a serial walk.
 *
 *     bun cli.ts -n 4 examples/tree-traversal.ts [nodes=128000] [parallelLevel=2]
 */
import { futures, run, shared } from "../mod.ts";
import { mulberry32, randint } from "./_random.ts";

/** A binary tree as three arrays indexed by node, so that it crosses the wire as it is. */
export interface BinaryTree {
  payload: Float64Array;
  /** Index of the left child, or -1. */
  left: Int32Array;
  /** Index of the right child, or -1. */
  right: Int32Array;
  size: number;
}

function newTree(capacity: number, rootValue: number): BinaryTree {
  const tree = {
    payload: new Float64Array(capacity),
    left: new Int32Array(capacity).fill(-1),
    right: new Int32Array(capacity).fill(-1),
    size: 1,
  };
  tree.payload[0] = rootValue;
  return tree;
}

/** Insert a value (a value already there is not added again). */
function insert(tree: BinaryTree, value: number): void {
  let node = 0;
  while (tree.payload[node] !== value) {
    const side = value <= tree.payload[node] ? tree.left : tree.right;
    if (side[node] === -1) {
      side[node] = tree.size;
      tree.payload[tree.size++] = value;
      return;
    }
    node = side[node];
  }
}

/** The node that holds `value`, or -1. */
function search(tree: BinaryTree, value: number): number {
  let node = 0;
  while (node !== -1 && tree.payload[node] !== value) {
    node = value <= tree.payload[node] ? tree.left[node] : tree.right[node];
  }
  return node;
}

/** The depth of the longest branch under `node`, counting from `currentDepth`. */
function maxDepth(tree: BinaryTree, node: number, currentDepth = 0): number {
  let result = currentDepth;
  for (const child of [tree.left[node], tree.right[node]]) {
    if (child !== -1) result = Math.max(result, maxDepth(tree, child, currentDepth + 1));
  }
  return result;
}

/**
 * Find the node of `rootValue` and the depth of its longest branch, splitting into a task per
 * child until `currentDepth` reaches `parallelLevel`.
 */
export async function maxTreeDepthDivide(
  rootValue: number,
  currentDepth = 0,
  parallelLevel = 2,
): Promise<number> {
  const tree = await shared.getConst<BinaryTree>("myTree", { timeout: 10_000 });
  const thisRoot = search(tree, rootValue);
  const left = tree.left[thisRoot];
  const right = tree.right[thisRoot];
  if (currentDepth >= parallelLevel || left === -1 || right === -1) {
    return maxDepth(tree, thisRoot, currentDepth);
  }
  const depths = await futures.map(
    maxTreeDepthDivide,
    [tree.payload[left], tree.payload[right]],
    [currentDepth + 1, currentDepth + 1],
    [parallelLevel, parallelLevel],
  );
  return Math.max(...depths);
}

export async function main(args: string[]): Promise<number> {
  const nodes = Number(args[0] ?? 128_000);
  const parallelLevel = Number(args[1] ?? 2);
  console.log("Beginning Tree generation.");
  const random = mulberry32(314159265);
  const exampleTree = newTree(nodes + 1, 0);
  for (let i = 0; i < nodes; i++) insert(exampleTree, randint(random, -(2 ** 31), 2 ** 31 - 1));
  await shared.setConst({ myTree: exampleTree });
  console.log("Tree generation done.");

  let ts = performance.now();
  const presult = await futures.submit(
    maxTreeDepthDivide,
    exampleTree.payload[0],
    0,
    parallelLevel,
  );
  const pts = performance.now() - ts;

  ts = performance.now();
  const sresult = maxDepth(exampleTree, 0);
  const sts = performance.now() - ts;

  console.log(`Parallel result: ${presult}`);
  console.log(`Serial result:   ${sresult}`);
  console.log(`Parallel time: ${(pts / 1000).toFixed(5)}s`);
  console.log(`Serial time:   ${(sts / 1000).toFixed(5)}s`);
  if (presult !== sresult) throw new Error(`parallel ${presult} != serial ${sresult}`);
  return presult;
}

if (import.meta.main) run(main);

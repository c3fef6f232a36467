// The trivial task of `tiny`, as a Piscina worker module.
export default function inc(x) {
  return x + 1;
}

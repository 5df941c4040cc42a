// zoo-bench: benchmarks that print tables; never part of the tests. (Filled in by the speed work.)
print("zoo-bench: no benchmarks yet")

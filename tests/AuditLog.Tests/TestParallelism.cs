// Each test class starts its own servers; classes may run side by side.
[assembly: CollectionBehavior(DisableTestParallelization = false)]

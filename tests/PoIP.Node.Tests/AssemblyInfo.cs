// The console's standard streams are process-wide: its tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

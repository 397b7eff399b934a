// Every cluster test shares one cluster of real processes; they run one after another.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

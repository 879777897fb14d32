// The end-to-end tests start whole topologies (several Servers, PostgreSQL, RabbitMQ, Redis,
// container clients) on a small machine; run side by side they starve each other's start-up
// and time out. One at a time they are slower in sum but never flaky.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

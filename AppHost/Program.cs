using Berth.AppHost;

var builder = DistributedApplication.CreateBuilder(args);
Topologies.AddStandalone(builder);
builder.Build().Run();

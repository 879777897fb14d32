using Berth.AppHost;

var builder = DistributedApplication.CreateBuilder(args);
Topologies.Add(builder);
builder.Build().Run();

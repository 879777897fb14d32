using Berth.Gateway;

GatewayApp.Build(args).Run();

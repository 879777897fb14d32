using Berth.Server;

try
{
    ServerApp.Build(args).Run();
}
catch (ArgumentException e) when (e.Message.StartsWith("unknown service", StringComparison.Ordinal))
{
    Console.Error.WriteLine($"berth: {e.Message}");
    return 2;
}
return 0;

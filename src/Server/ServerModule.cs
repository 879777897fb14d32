using Microsoft.AspNetCore.Routing;

namespace Berth.Server;

/// <summary>A module the Server can run: how to add its services and how to map its endpoints.</summary>
public sealed record ServerModule(string Name, Action<IHostApplicationBuilder> Add, Action<IEndpointRouteBuilder> Map);

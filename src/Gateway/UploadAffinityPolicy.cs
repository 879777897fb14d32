using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Berth.Gateway;

/// <summary>
/// Load balancing for the registry cluster: a request for an upload whose URL names an instance
/// (<see cref="UploadAffinity"/>) goes to that instance if it is among the available
/// (healthy) destinations; every other request, and one whose instance is down or
/// unknown, goes to the less busy of two picked at random (as YARP's default
/// power-of-two-choices policy does). A client that
/// names an instance itself gains nothing: any healthy instance serves any request,
/// the choice only spares work.
/// </summary>
public sealed class UploadAffinityPolicy : ILoadBalancingPolicy
{
    public const string PolicyName = "UploadAffinity";

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count > 1 && UploadAffinity.IsUploadPath(context.Request.Path)
            && context.Request.Query.TryGetValue(UploadAffinity.QueryParameter, out var named))
        {
            foreach (var destination in availableDestinations)
                if (string.Equals(UploadAffinity.TokenOf(destination), named.ToString(), StringComparison.Ordinal)) return destination;
        }
        return LessBusyOfTwo(availableDestinations);
    }

    private static DestinationState? LessBusyOfTwo(IReadOnlyList<DestinationState> destinations)
    {
        if (destinations.Count < 2) return destinations.Count == 0 ? null : destinations[0];
        var first = Random.Shared.Next(destinations.Count);
        var second = Random.Shared.Next(destinations.Count - 1);
        if (second >= first) second++;
        return destinations[first].ConcurrentRequestCount <= destinations[second].ConcurrentRequestCount ? destinations[first] : destinations[second];
    }
}

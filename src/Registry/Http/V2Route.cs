namespace Berth.Registry.Http;

public enum V2RouteKind
{
    Base,
    Catalog,
    TagsList,
    Manifest,
    Blob,
    UploadStart,
    Upload,
    Referrers,
    NotFound,
}

/// <summary>
/// A /v2 path taken apart. Repository names contain slashes, so the kind is
/// read from the last segments and everything before them is the name.
/// </summary>
public readonly record struct V2Route(V2RouteKind Kind, string Name, string Argument)
{
    public static V2Route Parse(string path)
    {
        // path is what follows "/v2/"; an empty path is the API base.
        if (path.Length == 0) return new V2Route(V2RouteKind.Base, "", "");
        if (path is "_catalog") return new V2Route(V2RouteKind.Catalog, "", "");

        var segments = path.Split('/');
        var n = segments.Length;
        if (n >= 3 && segments[n - 2] == "tags" && segments[n - 1] == "list")
            return Make(V2RouteKind.TagsList, segments, n - 2, "");
        if (n >= 4 && segments[n - 3] == "blobs" && segments[n - 2] == "uploads")
            return Make(segments[n - 1].Length == 0 ? V2RouteKind.UploadStart : V2RouteKind.Upload, segments, n - 3, segments[n - 1]);
        if (n >= 3 && segments[n - 2] == "blobs" && segments[n - 1] == "uploads")
            return Make(V2RouteKind.UploadStart, segments, n - 2, "");
        if (n >= 3 && segments[n - 2] == "manifests")
            return Make(V2RouteKind.Manifest, segments, n - 2, segments[n - 1]);
        if (n >= 3 && segments[n - 2] == "blobs")
            return Make(V2RouteKind.Blob, segments, n - 2, segments[n - 1]);
        if (n >= 3 && segments[n - 2] == "referrers")
            return Make(V2RouteKind.Referrers, segments, n - 2, segments[n - 1]);
        return new V2Route(V2RouteKind.NotFound, "", "");
    }

    private static V2Route Make(V2RouteKind kind, string[] segments, int nameSegments, string argument) =>
        new(kind, string.Join('/', segments, 0, nameSegments), argument);
}

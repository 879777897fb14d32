namespace Berth.TestSupport;

/// <summary>A blob pushed the way docker and containerd push large layers: POST, PATCH chunks with Content-Range, PUT ?digest=.</summary>
public static class ChunkedUpload
{
    /// <summary>
    /// Pushes <paramref name="blob"/> in chunks of <paramref name="chunkSize"/>; <paramref name="onChunk"/>
    /// sees each PATCH response with the inclusive end offset it acknowledged. Returns the final PUT's response (the caller disposes it).
    /// Throws InvalidOperationException when the registry stops handing out a Location (e.g. it went away).
    /// </summary>
    public static async Task<HttpResponseMessage> PushAsync(HttpClient http, string repository, byte[] blob, string digest, int chunkSize,
        Action<HttpResponseMessage, long>? onChunk = null)
    {
        using var start = await http.PostAsync($"/v2/{repository}/blobs/uploads/", null);
        var location = start.Headers.Location ?? throw new InvalidOperationException($"upload start: {start.StatusCode}");
        for (var offset = 0; offset < blob.Length; offset += chunkSize)
        {
            var length = Math.Min(chunkSize, blob.Length - offset);
            using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(blob, offset, length) };
            request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + length - 1}");
            using var patch = await http.SendAsync(request);
            onChunk?.Invoke(patch, offset + length - 1);
            location = patch.Headers.Location ?? throw new InvalidOperationException($"chunk: {patch.StatusCode}");
        }
        return await http.PutAsync($"{location}?digest={digest}", null);
    }
}

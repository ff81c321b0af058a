using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flannel.Cni.Tests;

public class JsonTreeTests
{
    [Theory]
    [InlineData("""{"a":1,"b":[true,null,"x"],"c":{"d":1.50}}""")]
    [InlineData("""[1,"two",{"three":3}]""")]
    [InlineData("\"text\"")]
    [InlineData("12.0e3")]
    [InlineData("null")]
    public void Parse_AnyDocument_SameTreeAsJsonNodeParse(string json)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(json);
        JsonNode? expected = JsonNode.Parse(utf8);
        JsonNode? actual = JsonTree.Parse(utf8);
        Assert.Equal(expected?.GetType(), actual?.GetType());
        Assert.Equal(expected?.ToJsonString(), actual?.ToJsonString());
        Assert.True(JsonNode.DeepEquals(expected, actual));
    }

    [Fact]
    public void Parse_DuplicateKey_ThrowsWhenTheObjectIsRead()
    {
        JsonObject obj = Assert.IsType<JsonObject>(JsonTree.Parse("""{"a":1,"a":2}"""u8.ToArray()));
        Assert.Throws<ArgumentException>(() => obj.Count);
    }

    [Fact]
    public void Parse_Malformed_ThrowsJsonException()
    {
        Assert.ThrowsAny<JsonException>(() => JsonTree.Parse("""{"a":"""u8.ToArray()));
        Assert.ThrowsAny<JsonException>(() => JsonTree.Parse("""{"a":1} x"""u8.ToArray()));
    }

    [Theory]
    [InlineData("\"plain\"")]
    [InlineData("\"\"")]
    [InlineData("\"quote \\\" backslash \\\\ newline \\n unicode \\u00e9 \\u2028 <>&\"")]
    public void StringOf_StringValue_SameAsGetValue(string json)
    {
        JsonValue parsed = Assert.IsAssignableFrom<JsonValue>(JsonTree.Parse(Encoding.UTF8.GetBytes(json)));
        JsonValue inObject = Assert.IsAssignableFrom<JsonValue>(JsonTree.Parse(Encoding.UTF8.GetBytes($$"""{"k":{{json}}}"""))!["k"]);
        JsonValue created = JsonValue.Create(parsed.GetValue<string>());
        foreach (JsonValue value in new[] { parsed, inObject, created, (JsonValue)inObject.DeepClone() })
        {
            Assert.Equal(value.GetValue<string>(), JsonTree.StringOf(value));
        }
    }

    [Theory]
    [InlineData("1")]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("[\"a\"]")]
    public void StringOf_NotAString_Null(string json)
    {
        Assert.Null(JsonTree.StringOf(JsonTree.Parse(Encoding.UTF8.GetBytes($$"""{"k":{{json}}}"""))!["k"]));
        Assert.Null(JsonTree.StringOf(JsonValue.Create(1)));
        Assert.Null(JsonTree.StringOf(null));
    }
}

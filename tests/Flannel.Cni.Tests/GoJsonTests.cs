using System.Text;

namespace Flannel.Cni.Tests;

public class GoJsonTests
{
    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(1450.0, "1450")]
    [InlineData(-3.25, "-3.25")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(0.000001, "0.000001")]
    [InlineData(0.0000001, "1e-7")]
    [InlineData(123456789012345680.0, "123456789012345680")]
    public void FormatNumber_AsGoFloat64_SameText(double value, string expected)
    {
        Assert.Equal(expected, GoJson.FormatNumber(value));
    }

    [Fact]
    public void WriteString_ControlAndHtmlCharacters_EscapedAsGo()
    {
        var text = new StringBuilder();
        GoJson.WriteString(text, "a\"b\\c\n\t\u0001<>&\u2028é");
        Assert.Equal("\"a\\\"b\\\\c\\n\\t\\u0001\\u003c\\u003e\\u0026\\u2028é\"", text.ToString());
    }
}

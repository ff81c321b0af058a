using Flannel.Linux.Packets;

namespace Flannel.Linux.Tests.Packets;

public class InternetChecksumTests
{
    [Fact]
    public void Sum_Rfc1071Example_MatchesPublishedValue()
    {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2.
        Assert.Equal(0xddf2u, InternetChecksum.Sum([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]));
    }

    [Fact]
    public void Sum_RandomBuffersOfEveryLength_MatchesNaiveReference()
    {
        var random = new Random(42);
        for (int length = 0; length < 300; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(PacketBuilder.NaiveSum(data), (ushort)InternetChecksum.Sum(data));
        }
    }

    [Theory]
    [InlineData(65535)]
    [InlineData(1_100_000)]
    public void Sum_LargeAllOnesBuffers_MatchesNaiveReference(int length)
    {
        // All 0xff maximises every lane, so vector-lane overflow would show here.
        var data = new byte[length];
        Array.Fill(data, (byte)0xff);
        Assert.Equal(PacketBuilder.NaiveSum(data), (ushort)InternetChecksum.Sum(data));
        new Random(length).NextBytes(data);
        Assert.Equal(PacketBuilder.NaiveSum(data), (ushort)InternetChecksum.Sum(data));
    }

    [Fact]
    public void Sum_WithInitial_EqualsSumOfConcatenation()
    {
        var random = new Random(7);
        var a = new byte[40];
        var b = new byte[1001];
        random.NextBytes(a);
        random.NextBytes(b);
        Assert.Equal(PacketBuilder.NaiveSum([.. a, .. b]), (ushort)InternetChecksum.Sum(b, InternetChecksum.Sum(a)));
    }

    [Fact]
    public void Compute_OverDataWithItsChecksum_VerifiesToAllOnes()
    {
        byte[] packet = PacketBuilder.Udp(33);
        Assert.Equal(0xffffu, InternetChecksum.Sum(packet.AsSpan(0, 20)));
    }
}

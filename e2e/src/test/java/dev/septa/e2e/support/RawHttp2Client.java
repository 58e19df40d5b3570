package dev.septa.e2e.support;

import io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.SimpleChannelInboundHandler;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.SocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2DataFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2HeadersFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ResetFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2StreamChannel;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2StreamFrame;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolConfig;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolNames;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 over mTLS with Netty's frame codec, and nothing of gRPC's client: the request's {@code :path} is sent byte
 * for byte as given. For asking a gRPC server what it does with a path no gRPC client would produce.
 */
public final class RawHttp2Client implements AutoCloseable {
    private final EventLoopGroup group = new NioEventLoopGroup(1);
    private final Channel connection;

    /** Connects with this client certificate (PEM files), trusting {@code caPem}; the server's name is not checked. */
    public RawHttp2Client(String host, int port, File certPem, File keyPem, File caPem) throws Exception {
        SslContext ssl = SslContextBuilder.forClient().keyManager(certPem, keyPem).trustManager(caPem)
                .endpointIdentificationAlgorithm(null) // an SVID names a SPIFFE ID, not a host
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
                .build();
        connection = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(ssl.newHandler(ch.alloc(), host, port),
                        Http2FrameCodecBuilder.forClient().build(),
                        new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
            }
        }).connect(host, port).sync().channel();
    }

    /**
     * One unary gRPC request (an empty message) to {@code path}; the response's headers and trailers, merged (a
     * trailers-only answer carries {@code grpc-status} in its only headers frame).
     */
    public Map<String, String> grpcCall(String authority, String path) throws Exception {
        CompletableFuture<Map<String, String>> done = new CompletableFuture<>();
        Map<String, String> seen = new LinkedHashMap<>();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(new SimpleChannelInboundHandler<Http2StreamFrame>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
                boolean end = false;
                if (frame instanceof Http2HeadersFrame h) {
                    h.headers().forEach(e -> seen.put(e.getKey().toString(), e.getValue().toString()));
                    end = h.isEndStream();
                } else if (frame instanceof Http2DataFrame d) {
                    end = d.isEndStream();
                } else if (frame instanceof Http2ResetFrame r) {
                    seen.put("rst-stream", String.valueOf(r.errorCode()));
                    end = true;
                }
                if (end) {
                    done.complete(Map.copyOf(seen));
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                done.completeExceptionally(cause);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                done.completeExceptionally(new IllegalStateException("stream closed without an end; saw " + seen));
            }
        }).open().sync().getNow();
        Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme("https").path(path).authority(authority)
                .set("content-type", "application/grpc").set("te", "trailers");
        stream.write(new DefaultHttp2HeadersFrame(headers, false));
        stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[5]), true)); // uncompressed, length 0
        return done.get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        connection.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}

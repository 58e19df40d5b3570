package dev.septa.controlplane.kubernetes.admission;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.stream.Stream;

/**
 * Tests only: resolves the webhook's Service names to 127.0.0.1 (everything else goes to the JDK's resolver), so an
 * unmodified HTTPS client dials {@code https://septa.septa-system.svc:PORT} and checks the certificate's name as the
 * API server does.
 */
public final class ServiceNameResolver extends InetAddressResolverProvider {
    @Override
    public InetAddressResolver get(Configuration configuration) {
        InetAddressResolver builtin = configuration.builtinResolver();
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                if (WebhookServer.DNS_NAMES.contains(host)) {
                    return Stream.of(InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1}));
                }
                return builtin.lookupByName(host, policy);
            }

            @Override
            public String lookupByAddress(byte[] addr) throws UnknownHostException {
                return builtin.lookupByAddress(addr);
            }
        };
    }

    @Override
    public String name() {
        return "septa-test-service-names";
    }
}

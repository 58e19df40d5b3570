/**
 * Septa's built-in CA: SPIFFE X.509-SVIDs for workloads, the control plane's serving certificate, trust bundles and
 * key storage. Entry point: {@link dev.septa.ca.CertificateAuthority}. Knows nothing of xDS, policies, Micronaut,
 * gRPC or Kubernetes.
 */
package dev.septa.ca;

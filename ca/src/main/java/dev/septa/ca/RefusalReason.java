package dev.septa.ca;

/** Why an issuance was refused; stable names, suitable as a metric tag. */
public enum RefusalReason {
    /** The CSR could not be parsed. */
    MALFORMED_CSR,
    /** The CSR's self-signature does not verify: the requester did not prove possession of the key. */
    BAD_CSR_SIGNATURE,
    /** The SPIFFE ID belongs to another trust domain. */
    FOREIGN_TRUST_DOMAIN,
    /** The CSR asks for a subject alternative name other than the SPIFFE ID being issued. */
    EXTRA_SAN,
    /** The CSR asks for CA rights (basicConstraints CA:true, keyCertSign or cRLSign). */
    CA_REQUESTED,
    /** The key type, curve or size is not accepted. */
    WEAK_OR_UNSUPPORTED_KEY,
    /** The requested lifetime is outside the configured range. */
    TTL_OUT_OF_RANGE,
    /** The signing CA has less lifetime left than the shortest allowed certificate. */
    SIGNER_EXPIRING,
    /** A serving certificate asked for a bad DNS name or IP address. */
    BAD_SERVING_NAME,
    /** The freshly signed certificate failed its own verification: a bug or a broken signer, never returned. */
    SELF_CHECK_FAILED
}

"""A proxyless gRPC workload on the gRPC C-core (Debian's python3-grpcio 1.51), the second implementation Septa is
checked against. It speaks the same line protocol as Septa's grpc-java demo workload (dev.septa.demo.WorkloadEvents):
events on stdout as "@septa<TAB>kind<TAB>field...", requests on stdin ("call ID TARGET PATH", "quit"); it exits at
end of stdin. The xDS bootstrap comes from GRPC_XDS_BOOTSTRAP (set by the caller). It serves any method on every
--port with an xDS server (mTLS and RBAC from the control plane) and answers "NAME CALLER_SPIFFE_ID".
Run with Debian's /usr/bin/python3.
"""
import argparse
import socket
import sys
import threading
import time
from concurrent import futures

import grpc
import grpc.experimental

lock = threading.Lock()


def emit(kind, *fields):
    line = "\t".join(["@septa", kind] + [str(f).replace("\t", " ").replace("\n", " ") for f in fields])
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def caller_id(context):
    auth = context.auth_context() or {}
    for key in ("peer_spiffe_id", "x509_subject_alternative_name"):
        for value in auth.get(key, []):
            text = value.decode("utf-8", "replace")
            if text.startswith("spiffe://"):
                return text
    return "-"


class AnyMethod(grpc.GenericRpcHandler):
    def __init__(self, name, port):
        self.name = name
        self.port = port

    def service(self, handler_call_details):
        method = handler_call_details.method

        def answer(request, context):
            caller = caller_id(context)
            emit("served", self.port, method, caller)
            return ("%s %s" % (self.name, caller)).encode()

        return grpc.unary_unary_rpc_method_handler(answer)


def serve(name, ports, connection_age_ms):
    # TLS checks certificates at the handshake only: ending connections a few times per certificate lifetime makes
    # callers handshake again, so a certificate the C-core failed to reload would show as a failed call.
    options = [("grpc.max_connection_age_ms", connection_age_ms), ("grpc.max_connection_age_grace_ms", 20000)] if connection_age_ms else []
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), xds=True, options=options)
    server.add_generic_rpc_handlers((AnyMethod(name, "-"),))
    for port in ports:
        # The C-core xDS server binds the wildcard address only; the listener resource is 0.0.0.0:PORT.
        server.add_secure_port("0.0.0.0:%d" % port, grpc.xds_server_credentials(grpc.insecure_server_credentials()))
    server.start()
    # Python 1.51 has no serving-status callback: the port accepts connections once its Listener arrived.
    pending = set(ports)
    deadline = time.time() + 120
    while pending and time.time() < deadline:
        for port in sorted(pending):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    emit("serving", port, "true", "")
                    pending.discard(port)
            except OSError:
                pass
        time.sleep(0.1)
    emit("ready", sorted(set(ports) - pending))
    return server


channels = {}


def call(request_id, target, path, deadline):
    channel = channels.get(target)
    if channel is None:
        creds = grpc.xds_channel_credentials(grpc.experimental.insecure_channel_credentials())
        channel = grpc.secure_channel("xds:///" + target, creds)
        channels[target] = channel
    start = time.monotonic()
    future = channel.unary_unary(path).future(b"", timeout=deadline)

    def done(f):
        millis = int((time.monotonic() - start) * 1000)
        code = f.code()
        if code == grpc.StatusCode.OK:
            parts = f.result().decode("utf-8", "replace").split(" ", 1)
            emit("call", request_id, target, path, "OK", parts[0], parts[1] if len(parts) > 1 else "-", millis, "")
        else:
            emit("call", request_id, target, path, code.name, "-", "-", millis, f.details() or "")

    future.add_done_callback(done)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", required=True)
    parser.add_argument("--port", type=int, action="append", default=[])
    parser.add_argument("--deadline", type=float, default=20.0)
    parser.add_argument("--connection-age", type=int, default=0, help="milliseconds; 0 keeps connections open")
    args = parser.parse_args()
    server = serve(args.workload, args.port, args.connection_age) if args.port else None
    if server is None:
        emit("ready", [])
    for line in sys.stdin:
        words = line.split()
        if len(words) == 4 and words[0] == "call":
            call(words[1], words[2], words[3], args.deadline)
        elif words and words[0] == "quit":
            break
    if server is not None:
        server.stop(0)


if __name__ == "__main__":
    main()

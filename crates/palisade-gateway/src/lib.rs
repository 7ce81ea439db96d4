//! Palisade's data plane: HTTP/1.1 and HTTP/2 reverse proxy, TLS termination, routing, limits and the inspection pipeline.
#![forbid(unsafe_code)]

//! The built-in demo web application that palisade demo puts behind the gateway.
#![forbid(unsafe_code)]

//! Request body processors with byte, depth and count limits: urlencoded, multipart (strict), JSON, XML.
#![forbid(unsafe_code)]

//! Runs the gateway alone from a TOML configuration on one runtime thread, for load measurements:
//! `cargo run --release -p palisade-gateway --example serve_config -- palisade.toml`.
//! No inspectors, events to the tracing sink, no log subscriber (so no access log output).

use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: serve_config CONFIG.toml")?;
    let text = std::fs::read_to_string(&path)?;
    let config: palisade_config::Config = toml::from_str(&text)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let handle = palisade_gateway::start(
            Arc::new(config),
            Vec::new(),
            Arc::new(palisade_core::TracingSink),
        )
        .await?;
        println!("listening on {:?}", handle.local_addrs());
        tokio::signal::ctrl_c().await?;
        handle.shutdown().await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

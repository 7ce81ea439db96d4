//! `palisade demo`: the built-in demo application behind the gateway, with a
//! banner of curl commands a newcomer can paste.
//!
//! The built-in configuration is ordinary TOML ([`demo_config`]) validated like
//! any file; inspectors come from [`crate::inspectors::build`] exactly as for
//! `serve`, so enabling the WAF there enables it here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cmd::serve::toml_string;
use crate::run::{ConfigSource, Overrides, Started};

/// Arguments of `palisade demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// Address the gateway listens on. Port 0 picks a free port.
    #[arg(
        long,
        short = 'l',
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    listen: SocketAddr,
    /// Address of the admin listener (/healthz, /readyz, /metrics).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9090")]
    admin: SocketAddr,
    /// Directory for state and events. Created when missing.
    #[arg(long, value_name = "DIR", default_value = "palisade-data")]
    data_dir: PathBuf,
}

pub(crate) fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    crate::cmd::tokio_runtime()?.block_on(async move {
        let app = palisade_demo::start_demo_app(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("cannot start the demo application")?;
        let text = demo_config(args.listen, args.admin, app.addr, &args.data_dir);
        let source = ConfigSource::Text {
            name: "(built-in demo configuration)".to_owned(),
            text,
        };
        let overrides = Overrides::default();
        let data_dir = args.data_dir.clone();
        let result = crate::run::serve(source, overrides, |started| {
            print_banner(started, app.addr, &data_dir)
        })
        .await;
        app.shutdown().await;
        result.context("palisade demo")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Access control of the demo site: writes to the JSON API need an API key with the `writer`
/// role; five wrong passwords in ten minutes lock a login name for two minutes (doubling).
const DEMO_ACCESS: &str = "[site.access]\n\n\
     [[site.access.rule]]\npath = \"/api/*\"\nmethods = [\"POST\", \"PUT\", \"PATCH\", \"DELETE\"]\nroles = [\"writer\"]\n\n\
     [[site.access.login]]\npath = \"/login\"\nusername = \"form:username\"\nmax_failures = 5\nwindow = \"10m\"\nlock = \"2m\"\n";

/// The demo's configuration: block mode on every route, access control, pretty logs.
pub(crate) fn demo_config(
    listen: SocketAddr,
    admin: SocketAddr,
    app: SocketAddr,
    data_dir: &Path,
) -> String {
    format!(
        "data_dir = {data_dir}\n\n[[listener]]\naddr = \"{listen}\"\n\n[admin]\naddr = \"{admin}\"\n\n\
         [[upstream]]\nname = \"demo-app\"\nservers = [\"http://{app}\"]\n\n\
         [[site]]\nhosts = [\"*\"]\n\n[[site.route]]\nname = \"demo\"\npath = \"/\"\nupstream = \"demo-app\"\nmode = \"block\"\n\n\
         {DEMO_ACCESS}\n\
         [log]\nformat = \"pretty\"\nlevel = \"info\"\n",
        data_dir = toml_string(&data_dir.to_string_lossy()),
    )
}

fn print_banner(started: &Started, app: SocketAddr, data_dir: &Path) {
    let data_dir = crate::cmd::serve::toml_string(&data_dir.to_string_lossy());
    let Some(gateway) = started.listening.first() else {
        return;
    };
    let base = format!("http://{gateway}");
    let admin = started
        .admin
        .map_or_else(|| "(disabled)".to_owned(), |a| format!("http://{a}"));
    println!(
        "\nPalisade demo is running.\n\
         \n  Demo shop (behind the gateway): {base}/\n  Demo shop (direct, unprotected): http://{app}/\n  Admin: {admin}/healthz  {admin}/readyz  {admin}/metrics\n\
         \nTry these in another terminal:\n\
         \n  # a benign search\n  curl -i '{base}/search?q=mug'\
         \n  # SQL injection in the search parameter\n  curl -i --get '{base}/search' --data-urlencode \"q=' OR 1=1--\"\
         \n  # cross-site scripting in the search parameter\n  curl -i --get '{base}/search' --data-urlencode 'q=<script>alert(1)</script>'\
         \n  # log in as demo/demo (stores the session cookie), then open the account page\n  curl -i -c /tmp/palisade-demo.cookies -d 'username=demo&password=demo' '{base}/login'\
         \n  curl -i -b /tmp/palisade-demo.cookies '{base}/account'\
         \n  # the JSON API: reading is public, writing needs an API key (401 without one)\n  curl -i '{base}/api/items'\n  curl -i -H 'Content-Type: application/json' -d '{{\"name\":\"Cap\"}}' '{base}/api/items'\
         \n  # create a key (printed once), then write with it\n  palisade keys create --name demo-client --roles writer --data-dir {data_dir}\
         \n  curl -i -H 'X-Api-Key: pal_…' -H 'Content-Type: application/json' -d '{{\"name\":\"Cap\"}}' '{base}/api/items'\
         \n  # login protection: the 6th wrong password in a row is answered 429 with Retry-After\n  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{{http_code}}\\n' -d 'username=demo&password=wrong' '{base}/login'; done\
         \n  palisade accounts unlock demo --data-dir {data_dir}\
         \n  # a file upload\n  curl -i -F 'file=@/etc/hostname' '{base}/upload'\
         \n\nAttacks are answered with 403 when an inspector (the WAF) flags them; every request is logged below.\
         \nThe admin URL is for operators: liveness, readiness and Prometheus metrics. Press Ctrl-C to stop.\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_configuration_is_valid() {
        let text = demo_config(
            "127.0.0.1:8080".parse().expect("addr"),
            "127.0.0.1:9090".parse().expect("addr"),
            "127.0.0.1:41234".parse().expect("addr"),
            Path::new("/tmp/palisade \"data\""),
        );
        let config = palisade_config::parse(&text, Path::new("demo.toml")).expect("valid");
        assert_eq!(config.data_dir, Path::new("/tmp/palisade \"data\""));
        assert_eq!(
            config.sites[0].routes[0].mode,
            palisade_config::RouteMode::Block
        );
        assert_eq!(config.upstreams[0].servers, ["http://127.0.0.1:41234"]);
    }

    #[test]
    fn the_upstream_configuration_is_valid_and_routes_everything() {
        let text = crate::cmd::serve::upstream_config(
            &["127.0.0.1:0".to_owned()],
            "http://127.0.0.1:3000",
        );
        let config = palisade_config::parse(&text, Path::new("cli.toml")).expect("valid");
        assert_eq!(config.sites[0].hosts, ["*"]);
        assert_eq!(config.sites[0].routes[0].path, "/");
        let bad = crate::cmd::serve::upstream_config(&["127.0.0.1:0".to_owned()], "localhost:3000");
        let error = palisade_config::parse(&bad, Path::new("(command line)")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("invalid server URL \"localhost:3000\""),
            "{error}"
        );
    }
}

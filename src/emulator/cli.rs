//! `notionfs emulator`: run the emulator alone on 127.0.0.1 until SIGINT/SIGTERM, serving
//! the demo workspace, a seed file (`--seed`) or a generated one (`--generate N`).

use std::path::PathBuf;

use super::{Emulator, EmulatorConfig, Seed, DEMO_TOKEN};

/// Command-line arguments of `notionfs emulator`.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// TCP port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed fixture (JSON, see the `seed` module docs); default: the built-in demo workspace.
    #[arg(long, conflicts_with = "generate")]
    pub seed: Option<PathBuf>,
    /// Serve a generated realistic workspace of N pages (about 20% database rows) instead.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub generate: Option<u32>,
    /// Random seed of --generate (the same N and seed give the same workspace).
    #[arg(long, value_name = "S", default_value_t = 1, requires = "generate")]
    pub generate_seed: u64,
    /// Bearer token clients must send (default: the documented demo token).
    #[arg(long, env = "NOTIONFS_EMULATOR_TOKEN", default_value = DEMO_TOKEN, hide_default_value = true, hide_env_values = true)]
    pub token: String,
    /// Rate limit in requests per second (default: unlimited).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Burst size of the rate limit.
    #[arg(long, default_value_t = 10)]
    pub burst: u32,
    /// Probability (0..1) of a random 5xx response.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Delay added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
}

/// Runs the emulator until SIGINT or SIGTERM.
pub async fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    let seed = match (&args.seed, args.generate) {
        (Some(p), _) => Seed::from_file(p).map_err(anyhow::Error::msg)?,
        (None, Some(n)) => super::generate::large_workspace(n as usize, args.generate_seed),
        (None, None) => super::demo::demo_workspace(),
    };
    if !(0.0..=1.0).contains(&args.fault_rate) {
        anyhow::bail!("--fault-rate must be between 0 and 1");
    }
    let config = EmulatorConfig {
        token: args.token.clone(),
        rate: args.rate,
        burst: args.burst,
        fault_rate: args.fault_rate,
        latency_ms: args.latency_ms,
        port: args.port,
        seed,
    };
    let emu = Emulator::start(config).await?;
    // The demo token is documented and harmless; any other token is not echoed.
    let shown = if emu.token() == DEMO_TOKEN {
        DEMO_TOKEN
    } else {
        "<as given>"
    };
    println!(
        "notionfs emulator listening on {} token={shown}",
        emu.base_url()
    );
    if let Some(n) = args.generate {
        println!(
            "serving a generated workspace: {n} pages (seed {})",
            args.generate_seed
        );
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    emu.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: EmulatorArgs,
    }

    #[test]
    fn parses_all_flags() {
        let w = Wrapper::try_parse_from([
            "x",
            "--port",
            "8123",
            "--seed",
            "s.json",
            "--token",
            "t",
            "--rate",
            "3",
            "--burst",
            "5",
            "--fault-rate",
            "0.1",
            "--latency-ms",
            "20",
        ])
        .expect("parses");
        assert_eq!(w.args.port, 8123);
        assert_eq!(w.args.seed.as_deref(), Some(std::path::Path::new("s.json")));
        assert_eq!(w.args.token, "t");
        assert_eq!(w.args.rate, Some(3.0));
        assert_eq!(w.args.burst, 5);
        assert_eq!(w.args.fault_rate, 0.1);
        assert_eq!(w.args.latency_ms, 20);
        let d = Wrapper::try_parse_from(["x"]).expect("defaults");
        assert_eq!(d.args.port, 0);
        assert_eq!(d.args.rate, None);
        assert_eq!(d.args.generate, None);
        assert!(Wrapper::try_parse_from(["x", "--rate", "fast"]).is_err());
    }

    #[test]
    fn generate_flags() {
        let w = Wrapper::try_parse_from(["x", "--generate", "5000", "--generate-seed", "7"])
            .expect("parses");
        assert_eq!(w.args.generate, Some(5000));
        assert_eq!(w.args.generate_seed, 7);
        let d = Wrapper::try_parse_from(["x", "--generate", "10"]).expect("default seed");
        assert_eq!(d.args.generate_seed, 1);
        for bad in [
            &["x", "--generate", "0"][..],
            &["x", "--generate", "-3"],
            &["x", "--generate", "many"],
            &["x", "--generate", "10", "--seed", "s.json"],
            &["x", "--generate-seed", "3"],
        ] {
            assert!(Wrapper::try_parse_from(bad).is_err(), "{bad:?} accepted");
        }
    }
}

//! `kanoon-server`: serves the sync API, and runs the province's admin
//! commands (centers, enrolment codes, devices, province-wide settings)
//! before the web admin exists.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use kanoon_domain::entities::CenterKind;
use kanoon_server::{PostgresStorage, SqliteStorage, Storage};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "kanoon-server", version, about = "Kanoon Desk provincial server")]
struct Cli {
    /// Log lines as text, or as one JSON object per line (for a log collector).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API until Ctrl-C or SIGTERM.
    Serve {
        /// The server database: a SQLite file (created if missing), or a
        /// PostgreSQL URL (`postgres://user@host:port/db`, migrated on open).
        #[arg(long)]
        database: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8440")]
        listen: SocketAddr,
        /// Serve HTTPS with this certificate chain (PEM: the server's
        /// certificate first, then its intermediates). Needs `--tls-key`.
        #[arg(long, requires = "tls_key", conflicts_with = "behind_tls_proxy")]
        tls_cert: Option<PathBuf>,
        /// The private key of `--tls-cert` (PEM: PKCS#8, PKCS#1 or SEC1).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// A reverse proxy in front terminates TLS: allows a non-loopback
        /// `--listen` address without `--tls-cert` (this server then speaks
        /// plain HTTP; tokens must never cross a network in clear).
        #[arg(long)]
        behind_tls_proxy: bool,
        /// Address of `/metrics` (and `/health`), apart from the API's port.
        #[arg(long, default_value = "127.0.0.1:8441")]
        admin_listen: SocketAddr,
        /// Connections served at once (the rest wait in the backlog).
        #[arg(long, default_value_t = kanoon_server::MAX_CONNECTIONS)]
        max_connections: usize,
        /// Milliseconds a connection may take to send its request headers
        /// before it is closed.
        #[arg(long, default_value_t = kanoon_server::HEADER_READ_TIMEOUT.as_millis() as u64)]
        header_read_timeout_ms: u64,
        /// Most bytes of member photos one center keeps (default 1 GiB);
        /// an upload past it is refused with `photo_quota_exceeded`.
        #[arg(long, default_value_t = kanoon_server::CENTER_PHOTO_QUOTA)]
        photo_quota_bytes: u64,
        /// Snapshots (a new desk's first download) served at once; beyond,
        /// 503 `busy` with `Retry-After: 30` (each holds a read of the log).
        #[arg(long, default_value_t = kanoon_server::MAX_SNAPSHOTS as u64, value_parser = clap::value_parser!(u64).range(1..10_000))]
        max_snapshots: u64,
    },
    /// Centers of the province.
    Center {
        #[command(subcommand)]
        command: CenterCommand,
    },
    /// Create a one-time enrolment code for a center and print it (only once).
    EnrolCode {
        /// The server database (a SQLite file or a PostgreSQL URL).
        #[arg(long)]
        database: PathBuf,
        /// The center's official code.
        #[arg(long)]
        center: String,
        /// Re-enrol this enrolled device of the center (a lost token, a
        /// revoked desk let back in); without it the code enrols only a new device.
        #[arg(long)]
        device: Option<uuid::Uuid>,
    },
    /// List the enrolled devices (or revoke one).
    Devices {
        /// The server database (a SQLite file or a PostgreSQL URL).
        #[arg(long)]
        database: Option<PathBuf>,
        #[command(subcommand)]
        command: Option<DevicesCommand>,
    },
    /// Province-wide settings: fees, free-membership campaigns, loan rules,
    /// holidays and activity kinds, published to every desk by sync.
    Province {
        /// The server database (a SQLite file or a PostgreSQL URL).
        #[arg(long)]
        database: PathBuf,
        #[command(subcommand)]
        command: ProvinceCommand,
    },
    /// Store an ops file a desk wrote to a USB stick (its base had no
    /// internet) as that desk's push: the signature checked with the
    /// device's credential, every op checked as a push is. Reading a file
    /// twice stores nothing the second time.
    ImportOps {
        /// The server database (a SQLite file or a PostgreSQL URL).
        #[arg(long)]
        database: PathBuf,
        /// The `.kanoon-ops` file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Write a center's ops to a file for one of its desks to read from a
    /// USB stick (signed for that desk).
    ExportOps {
        /// The server database (a SQLite file or a PostgreSQL URL).
        #[arg(long)]
        database: PathBuf,
        /// The desk's device id (as `devices` lists it).
        #[arg(long)]
        device: uuid::Uuid,
        /// Only ops after this log position (the desk's sync cursor's
        /// number; 0 for all).
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Where to write the file.
        #[arg(long)]
        out: PathBuf,
    },
    /// List sync exceptions: what each center's circulation log shows (a
    /// copy lent twice, a return of a loan not open, …) and what staff
    /// resolved at a desk. Unresolved first.
    Exceptions {
        /// The server database (a SQLite file or a PostgreSQL URL).
        #[arg(long)]
        database: PathBuf,
        /// Only this center (its official code).
        #[arg(long)]
        center: Option<String>,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DevicesCommand {
    /// Revoke a device: its token is refused until it is re-enrolled with
    /// a code made for it (`enrol-code --device`).
    Revoke {
        /// The server database (a SQLite file or a PostgreSQL URL).
        #[arg(long)]
        database: PathBuf,
        /// The device's id (as `devices` lists it).
        #[arg(long)]
        device: uuid::Uuid,
    },
}

#[derive(Subcommand)]
enum ProvinceCommand {
    /// Set a key's value (JSON) for every center: `membership_terms`
    /// (`{"fee_rials":400000,"period_days":365}`), `policy`,
    /// `fee_exemptions`, `activity_kinds`, `holidays` (value `null`).
    Set {
        #[arg(long)]
        key: String,
        #[arg(long)]
        value: String,
        /// A center may keep its own value (`membership_terms`, `policy`)
        /// or add its own (`holidays`, `activity_kinds`).
        #[arg(long)]
        center_may_override: bool,
    },
    /// Clear a key: every desk goes back to its own value.
    Clear {
        #[arg(long)]
        key: String,
    },
    /// A holiday for every center, on a Jalali date (`1404/07/13`).
    Holiday {
        #[arg(long)]
        date: String,
        /// The holiday's name; without it (and with `--remove`) the date is
        /// no longer a province holiday.
        #[arg(long, required_unless_present = "remove")]
        name: Option<String>,
        #[arg(long)]
        remove: bool,
    },
    /// A dated free-membership campaign, days included (Jalali dates).
    Campaign {
        /// Latin letters, digits and `_` (e.g. `childrens_week_1404`).
        #[arg(long)]
        code: String,
        #[arg(long, required_unless_present = "withdraw")]
        name: Option<String>,
        #[arg(long, required_unless_present = "withdraw")]
        from: Option<String>,
        #[arg(long, required_unless_present = "withdraw")]
        to: Option<String>,
        /// The fee of a new registration is waived.
        #[arg(long)]
        registration: bool,
        /// The fee of a renewal is waived.
        #[arg(long)]
        renewal: bool,
        /// Withdraw the campaign.
        #[arg(long)]
        withdraw: bool,
    },
    /// Print the province's settings as they stand.
    Show {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CenterCommand {
    /// Register a center by its official code.
    Add {
        /// The server database (a SQLite file or a PostgreSQL URL).
        #[arg(long)]
        database: PathBuf,
        /// Official center code (digits).
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value_t = Kind::Fixed)]
        kind: Kind,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Fixed,
    Mobile,
    Postal,
}

impl From<Kind> for CenterKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Fixed => CenterKind::Fixed,
            Kind::Mobile => CenterKind::Mobile,
            Kind::Postal => CenterKind::Postal,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            database,
            listen,
            admin_listen,
            tls_cert,
            tls_key,
            behind_tls_proxy,
            max_connections,
            header_read_timeout_ms,
            photo_quota_bytes,
            max_snapshots,
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(
                    kanoon_server::ServerTls::from_pem_files(&cert, &key)
                        .map_err(|e| anyhow::anyhow!("refusing to start: {}", e.message))?,
                ),
                _ => None,
            };
            if tls.is_none() && !listen.ip().is_loopback() && !behind_tls_proxy {
                anyhow::bail!(
                    "refusing to serve plain HTTP on {listen}, a non-loopback address: device tokens would cross \
                     the network in clear. Serve TLS with --tls-cert and --tls-key, or put a reverse proxy that \
                     terminates TLS in front and pass --behind-tls-proxy, or listen on 127.0.0.1 (see README)."
                );
            }
            let storage: Arc<dyn Storage> = match database.to_str() {
                Some(url) if is_postgres_url(url) => {
                    let max_snapshots = usize::try_from(max_snapshots).unwrap_or(usize::MAX);
                    if max_snapshots > kanoon_server::POSTGRES_MAX_SNAPSHOTS {
                        anyhow::bail!(
                            "refusing to start: --max-snapshots {max_snapshots} is more than PostgreSQL's connections \
                             allow (each snapshot reads on two of them): give at most {}",
                            kanoon_server::POSTGRES_MAX_SNAPSHOTS
                        );
                    }
                    let storage = PostgresStorage::open_serving(url, max_snapshots)?;
                    storage.set_photo_quota(photo_quota_bytes);
                    Arc::new(storage)
                }
                _ => {
                    let storage = SqliteStorage::open(&database)?;
                    storage.set_photo_quota(photo_quota_bytes);
                    Arc::new(storage)
                }
            };
            let limits = kanoon_server::ConnectionLimits {
                max_connections,
                header_read_timeout: std::time::Duration::from_millis(header_read_timeout_ms),
                ..Default::default()
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let admin = tokio::net::TcpListener::bind(admin_listen)
                    .await
                    .with_context(|| format!("cannot listen on {admin_listen} (--admin-listen)"))?;
                let shutdown = kanoon_server::shutdown_signal();
                let max_snapshots = usize::try_from(max_snapshots).unwrap_or(kanoon_server::MAX_SNAPSHOTS);
                let request_limits = kanoon_server::Limits { max_snapshots, ..Default::default() };
                kanoon_server::serve_with_request_limits(
                    listener,
                    Some(admin),
                    storage,
                    limits,
                    request_limits,
                    tls,
                    shutdown,
                )
                .await
                .context("server failed")
            })?;
        }
        Command::Center { command: CenterCommand::Add { database, code, name, kind } } => {
            let center = open(&database)?.add_center(&code, &name, kind.into())?;
            println!("{}\t{}\t{}\t{}", center.code, center.id, center.kind.as_str(), center.name);
        }
        Command::EnrolCode { database, center, device } => {
            let storage = open(&database)?;
            let code = match device {
                Some(device) => storage.create_reenrol_code(&center, device)?,
                None => storage.create_enrol_code(&center)?,
            };
            eprintln!("one-time enrolment code for center {center} (shown only now):");
            println!("{code}");
        }
        Command::Province { database, command } => province(open(&database)?.as_ref(), command)?,
        Command::Exceptions { database, center, json } => {
            let storage = open(&database)?;
            let found = kanoon_server::province_exceptions(storage.as_ref(), center.as_deref())?;
            if json {
                for e in &found {
                    println!("{}", serde_json::to_string(e)?);
                }
            } else {
                println!("center\tstatus\tcode\texception\tdetail\tresolution");
                for e in &found {
                    let (status, resolution) = match &e.resolution {
                        Some(r) => ("resolved", format!("{} ({}, {})", r.note, r.staff_name, r.resolved_at)),
                        None => ("open", "-".to_owned()),
                    };
                    println!("{}\t{status}\t{}\t{}\t{}\t{resolution}", e.center_code, e.code, e.id, e.detail);
                }
            }
            let open = found.iter().filter(|e| e.resolution.is_none()).count();
            eprintln!("{} exceptions, {open} not resolved", found.len());
        }
        Command::ImportOps { database, file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let report = kanoon_server::import_ops(open(&database)?.as_ref(), &bytes)?;
            println!("{}", serde_json::to_string(&report)?);
            eprintln!(
                "{} ops of device {}: {} stored, {} stored before, {} refused",
                report.ops,
                report.device_id,
                report.accepted,
                report.duplicates,
                report.rejected.len()
            );
        }
        Command::ExportOps { database, device, after, out } => {
            let written_at = chrono::Utc::now().to_rfc3339();
            let (bytes, n) = kanoon_server::export_ops(open(&database)?.as_ref(), device, after, &written_at)?;
            std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
            eprintln!("{n} ops written to {}", out.display());
        }
        Command::Devices { command: Some(DevicesCommand::Revoke { database, device }), .. } => {
            if !open(&database)?.revoke_device(device)? {
                anyhow::bail!("device {device} is not enrolled, or is revoked already");
            }
            eprintln!("device {device} revoked: its token is refused until it is re-enrolled");
        }
        Command::Devices { database, command: None } => {
            let database = database.context("--database is needed")?;
            let devices = open(&database)?.devices()?;
            println!("center\tdesk\tdevice\tname\tenrolled_at\tlast_seen_at");
            for d in devices {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    d.center_code,
                    d.desk_number,
                    d.device_id,
                    d.name,
                    d.enrolled_at,
                    d.last_seen_at.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

/// The `province` subcommands.
fn province(storage: &dyn Storage, command: ProvinceCommand) -> anyhow::Result<()> {
    use kanoon_domain::jalali::JalaliDate;
    use kanoon_protocol::province as key;
    let jalali = |s: &str| -> anyhow::Result<chrono::NaiveDate> {
        Ok(JalaliDate::parse(s).with_context(|| format!("{s} is not a Jalali date (1404/07/13)"))?.to_gregorian())
    };
    let (k, value, may) = match command {
        ProvinceCommand::Show { json } => {
            let settings = storage.province_settings()?;
            for s in settings.values() {
                if json {
                    println!("{}", serde_json::to_string(s)?);
                } else {
                    println!(
                        "{}\t{}\t{}",
                        s.key,
                        if s.center_may_override { "center may change" } else { "locked" },
                        s.value
                    );
                }
            }
            eprintln!("{} province settings", settings.len());
            return Ok(());
        }
        ProvinceCommand::Set { key, value, center_may_override } => {
            let value = serde_json::from_str(&value).context("--value is not JSON")?;
            (key, value, center_may_override)
        }
        ProvinceCommand::Clear { key } => (key, serde_json::Value::Null, true),
        ProvinceCommand::Holiday { date, name, remove } => {
            let day = jalali(&date)?;
            let value =
                if remove { serde_json::Value::Null } else { serde_json::Value::from(name.unwrap_or_default()) };
            (format!("{}{day}", key::HOLIDAY_PREFIX), value, false)
        }
        ProvinceCommand::Campaign { code, name, from, to, registration, renewal, withdraw } => {
            let value = if withdraw {
                serde_json::Value::Null
            } else {
                let (Some(name), Some(from), Some(to)) = (name, from, to) else {
                    anyhow::bail!("--name, --from and --to are needed");
                };
                serde_json::to_value(kanoon_domain::settings::FeeCampaign {
                    code: code.clone(),
                    name,
                    from: jalali(&from)?,
                    to: jalali(&to)?,
                    registration,
                    renewal,
                })?
            };
            (format!("{}{code}", key::FEE_CAMPAIGN_PREFIX), value, false)
        }
    };
    let op = storage.put_province_setting(&k, value, may)?;
    eprintln!("{k} published to every center (op {}); desks apply it at their next sync", op.op_id);
    Ok(())
}

/// Whether `--database` names a PostgreSQL server rather than a SQLite file.
fn is_postgres_url(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

/// The storage `--database` names: a PostgreSQL URL, or else a SQLite file.
fn open(database: &Path) -> anyhow::Result<Box<dyn Storage>> {
    match database.to_str() {
        Some(url) if is_postgres_url(url) => Ok(Box::new(PostgresStorage::open(url)?)),
        _ => Ok(Box::new(SqliteStorage::open(database)?)),
    }
}

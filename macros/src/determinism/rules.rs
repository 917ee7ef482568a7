//! What the syntax layer refuses: paths, methods and macros known to
//! differ between the first run and a replay, each with the fix.
//!
//! Paths are matched as written. A bare module path (`fs::read`) is refused
//! only when its last segment is a name the std module has, so a user's own
//! `mod fs` passes; values whose type breaks replay are refused after name
//! resolution by the type probes (`expand::probe`), which see through `use`
//! aliases where these rules cannot.

/// Something workflow code must not do, and how to do it instead.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    WallClock,
    Random,
    HashState,
    Uuid,
    ThreadSpawn,
    ThreadSleep,
    ThreadIdentity,
    TaskSpawn,
    Runtime,
    BlockOn,
    Env,
    Fs,
    Net,
    Process,
    Stdin,
    ChannelTimeout,
    HashCollection,
    StaticMut,
    ThreadLocal,
    GlobalState,
    Select,
    Join,
}

impl Denied {
    /// Why it breaks replay, and the fix.
    pub fn message(self) -> &'static str {
        match self {
            Denied::WallClock => {
                "the wall clock reads differently on replay; use `ctx.now()`, the time recorded in the workflow's history"
            }
            Denied::Random => {
                "random numbers differ on replay; use `ctx.random()`, seeded from the workflow's history"
            }
            Denied::HashState => {
                "a `RandomState` is seeded randomly, so hashes and iteration order differ on replay; use `weft::collections::FixedState` (or `weft::collections::HashMap`/`HashSet`), or `BTreeMap`/`BTreeSet`"
            }
            Denied::Uuid => {
                "a new UUID differs on replay; use `ctx.uuid()`, derived from the workflow's history"
            }
            Denied::ThreadSpawn => {
                "a thread runs outside the workflow's history; use `ctx.spawn(async { .. })` for concurrent workflow code, or an activity for other work"
            }
            Denied::ThreadSleep => {
                "sleeping blocks the worker and is not recorded; use `ctx.sleep(duration).await`, a durable timer"
            }
            Denied::ThreadIdentity => {
                "the thread or process a workflow runs on differs between workers and on replay; pass what you need in the workflow input, or read it in an activity"
            }
            Denied::TaskSpawn => {
                "a tokio task runs outside the workflow's history; use `ctx.spawn(async { .. })` for concurrent workflow code, or an activity for blocking or other work"
            }
            Denied::Runtime => {
                "no tokio runtime runs workflow code, and work spawned or timed on one is not recorded; use `ctx.spawn(..)`, `ctx.sleep(..)`, or an activity"
            }
            Denied::BlockOn => {
                "blocking on a future hides it from the workflow; `.await` weft's futures, or run the work in an activity"
            }
            Denied::Env => {
                "the environment differs between workers and on replay; pass configuration in the workflow input, or read it in an activity"
            }
            Denied::Fs => "file system access is I/O; do it in an activity (`ctx.activity(..)`)",
            Denied::Net => {
                "network access and name resolution are I/O; do them in an activity (`ctx.activity(..)`)"
            }
            Denied::Process => "processes are I/O; run them from an activity (`ctx.activity(..)`)",
            Denied::Stdin => {
                "standard input is I/O; pass the value in the workflow input, or read it in an activity"
            }
            Denied::ChannelTimeout => {
                "a receive with a timeout waits on the wall clock; wait with `ctx.wait_condition_timeout(timeout, |s| ..)`, which records a durable timer"
            }
            Denied::HashCollection => {
                "the default hasher is seeded randomly, so iteration order differs on replay; use `weft::collections::HashMap`/`HashSet`, or `BTreeMap`/`BTreeSet`"
            }
            Denied::StaticMut => {
                "a `static mut` is shared by every workflow on the worker and is not replayed; keep state in the workflow struct (`ctx.state_mut(..)`)"
            }
            Denied::ThreadLocal => {
                "thread-local state is shared by the workflows a worker thread runs and is not replayed; keep state in the workflow struct (`ctx.state_mut(..)`)"
            }
            Denied::GlobalState => {
                "a static is shared by every workflow on the worker and is not replayed; keep state in the workflow struct (`ctx.state_mut(..)`), or read it in an activity"
            }
            Denied::Select => {
                "this `select!` is not weft's: it picks among ready branches at random and awaits unchecked futures; use `weft::select!`, which polls its branches in order"
            }
            Denied::Join => {
                "this join macro is not weft's: it does not poll in a fixed order and awaits unchecked futures; use `weft::workflow::join(a, b)` or `weft::workflow::join_all(..)`"
            }
        }
    }
}

/// The rule a path breaks, if any. `call` is true when the path is called
/// (`rng()` is only suspicious as a call).
pub fn denied_path(segs: &[String], call: bool) -> Option<Denied> {
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let segs = segs.as_slice();
    clock_or_random(segs, call)
        .or_else(|| threads(segs))
        .or_else(|| io(segs, call))
        .or_else(|| hash_constructor(segs).then_some(Denied::HashCollection))
}

fn clock_or_random(segs: &[&str], call: bool) -> Option<Denied> {
    let denied = match segs {
        [
            ..,
            "SystemTime" | "Instant" | "Utc" | "Local" | "Timestamp" | "Zoned",
            "now" | "today",
        ]
        | [
            ..,
            "OffsetDateTime" | "UtcDateTime",
            "now_utc" | "now_local" | "now",
        ]
        | ["crossbeam_channel", "after" | "tick" | "at"] => Denied::WallClock,
        [.., "UNIX_EPOCH" | "SystemTime" | "Instant", "elapsed"] => Denied::WallClock,
        [
            "rand",
            "random" | "rng" | "thread_rng" | "random_range" | "random_bool",
        ]
        | ["rand", "random_ratio" | "random_iter" | "fill"] => Denied::Random,
        ["getrandom" | "rand_core" | "nanorand", ..] => Denied::Random,
        ["fastrand", rest @ ..] if !matches!(rest, ["Rng", "with_seed"]) => Denied::Random,
        [
            ..,
            "thread_rng" | "from_entropy" | "from_os_rng" | "from_thread_rng",
        ] => Denied::Random,
        [.., seg] if is_random_source(seg) => Denied::Random,
        [.., source, _] if is_random_source(source) => Denied::Random,
        ["rng" | "random" | "random_range" | "random_bool"] if call => Denied::Random,
        [.., "RandomState"] | [.., "RandomState", _] => Denied::HashState,
        [.., "new_v4" | "now_v7" | "now_v6" | "now_v1" | "new_v7"]
        | [.., "Ulid", "new" | "generate"]
        | [.., "ObjectId", "new"]
        | ["cuid" | "cuid2", ..]
        | ["xid", "new"] => Denied::Uuid,
        _ => return None,
    };
    Some(denied)
}

/// Randomness sources as types or values: `OsRng`, `ThreadRng`, ..
fn is_random_source(seg: &str) -> bool {
    matches!(seg, "OsRng" | "ThreadRng" | "SystemRandom" | "EntropyRng")
}

fn threads(segs: &[&str]) -> Option<Denied> {
    let denied = match segs {
        [.., "thread", "spawn" | "scope" | "Builder"]
        | [.., "thread", "Builder", _]
        | ["crossbeam", "scope"]
        | ["rayon", ..] => Denied::ThreadSpawn,
        [
            ..,
            "thread",
            "sleep" | "sleep_ms" | "park" | "park_timeout" | "yield_now",
        ] => Denied::ThreadSleep,
        [
            ..,
            "thread",
            "current" | "available_parallelism" | "panicking",
        ] => Denied::ThreadIdentity,
        [.., "tokio", "spawn" | "spawn_local"]
        | [.., "task", "spawn" | "spawn_local" | "LocalSet"]
        | [.., "LocalSet", "new"]
        | [.., "spawn_blocking" | "block_in_place"] => Denied::TaskSpawn,
        [.., "block_on"] => Denied::BlockOn,
        [.., "Handle", "current" | "try_current"]
        | [.., "new_multi_thread" | "new_current_thread"]
        | ["tokio", "runtime", ..] => Denied::Runtime,
        _ => return None,
    };
    Some(denied)
}

fn io(segs: &[&str], call: bool) -> Option<Denied> {
    let denied = match segs {
        [.., "io", "stdin"] | ["stdin"] if call || segs.len() > 1 => Denied::Stdin,
        [.., "File", "open" | "create" | "create_new" | "options"] | [.., "OpenOptions", "new"] => {
            Denied::Fs
        }
        [.., "Path" | "PathBuf", method] if is_fs_method(method) => Denied::Fs,
        ["TcpStream", "connect"] | ["TcpListener" | "UdpSocket", "bind"] => Denied::Net,
        ["dotenv" | "dotenvy", ..] => Denied::Env,
        ["tempfile", ..] => Denied::Fs,
        [
            "reqwest",
            "get" | "Client" | "ClientBuilder" | "blocking",
            ..,
        ]
        | [
            "ureq",
            "get" | "post" | "put" | "delete" | "head" | "request" | "agent" | "Agent",
            ..,
        ] => Denied::Net,
        _ => return std_module(segs),
    };
    Some(denied)
}

/// Methods of `Path` that read the file system.
pub fn is_fs_method(name: &str) -> bool {
    matches!(
        name,
        "exists"
            | "try_exists"
            | "is_file"
            | "is_dir"
            | "is_symlink"
            | "metadata"
            | "symlink_metadata"
            | "canonicalize"
            | "read_dir"
            | "read_link"
    )
}

/// `std::fs::..` (any item), or `fs::read` after an import: a bare module
/// path only when the item is one std's module has.
fn std_module(segs: &[&str]) -> Option<Denied> {
    let at = segs
        .iter()
        .position(|s| matches!(*s, "fs" | "net" | "process" | "env"))?;
    let (module, rest) = (segs[at], &segs[at + 1..]);
    let first = rest.first()?;
    let qualified = at > 0 && matches!(segs[at - 1], "std" | "tokio" | "async_std");
    if at > 0 && !qualified {
        return None;
    }
    let (denied, bare_names): (Denied, &[&str]) = match module {
        "fs" => (Denied::Fs, FS_ITEMS),
        "net" if rest.iter().any(|s| is_address_type(s)) => return None,
        "net" => (Denied::Net, NET_ITEMS),
        "process" if *first == "id" => (Denied::ThreadIdentity, PROCESS_ITEMS),
        "process" => (Denied::Process, PROCESS_ITEMS),
        _ => (Denied::Env, ENV_ITEMS),
    };
    (qualified || bare_names.contains(first)).then_some(denied)
}

/// For a refused bare module path (`process::Command`): how to name a
/// user's own module of that name instead.
pub fn bare_module_hint(segs: &[String]) -> Option<String> {
    let first = segs.first()?;
    matches!(first.as_str(), "fs" | "net" | "process" | "env").then(|| {
        format!(
            " (if `{first}` is your own module, name it `self::{first}::..` or `crate::{first}::..`)"
        )
    })
}

const FS_ITEMS: &[&str] = &[
    "read",
    "read_to_string",
    "write",
    "read_dir",
    "create_dir",
    "create_dir_all",
    "remove_file",
    "remove_dir",
    "remove_dir_all",
    "rename",
    "copy",
    "metadata",
    "symlink_metadata",
    "canonicalize",
    "hard_link",
    "read_link",
    "set_permissions",
    "exists",
    "File",
    "OpenOptions",
    "DirBuilder",
];

const NET_ITEMS: &[&str] = &[
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "ToSocketAddrs",
    "lookup_host",
];

const PROCESS_ITEMS: &[&str] = &["Command", "Child", "Stdio", "exit", "abort", "id"];

const ENV_ITEMS: &[&str] = &[
    "var",
    "vars",
    "var_os",
    "vars_os",
    "set_var",
    "remove_var",
    "args",
    "args_os",
    "current_dir",
    "set_current_dir",
    "current_exe",
    "temp_dir",
    "home_dir",
];

/// `std::net`'s plain data types, which do no I/O.
fn is_address_type(name: &str) -> bool {
    matches!(
        name,
        "IpAddr" | "Ipv4Addr" | "Ipv6Addr" | "SocketAddr" | "SocketAddrV4" | "SocketAddrV6"
    )
}

/// `HashMap::new()`, `std::collections::HashSet::with_capacity(..)`, ..:
/// constructors that exist only with the random default hasher.
fn hash_constructor(segs: &[&str]) -> bool {
    let Some(at) = segs
        .iter()
        .position(|s| matches!(*s, "HashMap" | "HashSet"))
    else {
        return false;
    };
    matches!(segs.get(at + 1), Some(&("new" | "with_capacity" | "from")))
}

/// The rule a method call breaks, by the method's name alone: names no
/// deterministic type in reach of workflow code has.
pub fn denied_method(name: &str) -> Option<Denied> {
    let denied = match name {
        "elapsed" => Denied::WallClock,
        "block_on" => Denied::BlockOn,
        "recv_timeout" | "recv_deadline" | "send_timeout" | "send_deadline" => {
            Denied::ChannelTimeout
        }
        "to_socket_addrs" => Denied::Net,
        "spawn_scoped" | "par_iter" | "par_iter_mut" | "into_par_iter" | "par_bridge" => {
            Denied::ThreadSpawn
        }
        "try_exists" | "is_symlink" | "symlink_metadata" | "canonicalize" | "read_dir"
        | "read_link" => Denied::Fs,
        _ => return None,
    };
    Some(denied)
}

/// `HashMap<K, V>` / `HashSet<T>` written through `std::collections`, where
/// the path itself says which map it is.
pub fn std_hash_type(segs: &[String]) -> bool {
    matches!(
        segs.iter().map(String::as_str).collect::<Vec<_>>().as_slice(),
        [.., "collections" | "hash_map" | "hash_set", "HashMap" | "HashSet"]
            if segs.first().is_some_and(|s| s == "std" || s == "hash_map" || s == "hash_set")
    )
}

//! What a program built on the CLI synthesizes: the user's stacks (a function adding them to
//! an app), how `list` groups them, and whether `app =` in `ordersctl.toml` takes over.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use crate::constructs::{App, SynthError};

/// The function that adds a program's stacks to an app.
pub type Build = dyn Fn(&App) -> Result<(), SynthError> + Send + Sync;

/// A named part of a program's stacks, for `ordersctl list` (the blueprints of this
/// repository, say).
#[derive(Debug, Clone, Copy)]
pub struct Group {
    /// Its name (`order-pipeline`).
    pub name: &'static str,
    /// One line on what it is.
    pub summary: &'static str,
    /// Adds its stacks.
    pub build: fn(&App) -> Result<(), SynthError>,
}

/// A command-line program over a set of stacks: every verb (synth, list, check, diff,
/// deploy, destroy, bundle, invoke, local) works on them.
///
/// ```no_run
/// use ordersctl::cli::Program;
/// use ordersctl::constructs::App;
/// use ordersctl::constructs::Duration;
///
/// fn stacks(app: &App) -> Result<(), ordersctl::constructs::SynthError> {
///     let stack = app.stack("Jobs");
///     stack.queue("Work").visibility_timeout(Duration::secs(60)).build()?;
///     Ok(())
/// }
///
/// fn main() -> std::process::ExitCode {
///     Program::new(stacks).main()
/// }
/// ```
#[derive(Clone)]
pub struct Program {
    build: Arc<Build>,
    groups: Vec<Group>,
    group_label: &'static str,
    configured_app: bool,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("groups", &self.groups)
            .field("configured_app", &self.configured_app)
            .finish_non_exhaustive()
    }
}

impl Program {
    /// A program whose stacks `build` adds.
    pub fn new(build: impl Fn(&App) -> Result<(), SynthError> + Send + Sync + 'static) -> Self {
        Program {
            build: Arc::new(build),
            groups: Vec::new(),
            group_label: "group",
            configured_app: false,
        }
    }

    /// A program made of named groups of stacks, which `list` shows under `label`
    /// (`"blueprint"`).
    pub fn grouped(label: &'static str, groups: &[Group]) -> Self {
        let all = groups.to_vec();
        let mut p = Program::new(move |app| all.iter().try_for_each(|g| (g.build)(app)));
        p.groups = groups.to_vec();
        p.group_label = label;
        p
    }

    /// When the project's `ordersctl.toml` names an `app` command, synthesize by running it
    /// instead of using the stacks built in (what the prebuilt `ordersctl` binary does, as
    /// `cdk` runs the app in `cdk.json`).
    pub fn defer_to_configured_app(mut self) -> Self {
        self.configured_app = true;
        self
    }

    /// Run with the process's arguments and exit with the verb's code. Run by an
    /// `app = ...` command (`ORDERSCTL_OUT` set and no arguments), it writes the assembly
    /// there and exits.
    pub fn main(self) -> ExitCode {
        let args: Vec<OsString> = std::env::args_os().collect();
        let code = if args.len() <= 1 && std::env::var_os(super::app_command::OUT_ENV).is_some() {
            super::app_command::synth_for_parent(&self)
        } else {
            self.run(args)
        };
        ExitCode::from(u8::try_from(code).unwrap_or(1))
    }

    /// Run with `args` (the first is the program name); the exit code.
    pub fn run(&self, args: impl IntoIterator<Item = OsString>) -> i32 {
        *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = Some(self.clone());
        super::run_verb(args)
    }

    /// Add the program's stacks to `app`.
    pub fn build(&self, app: &App) -> Result<(), SynthError> {
        (self.build)(app)
    }

    /// The groups, if the program has them, and the label `list` shows them under.
    pub fn groups(&self) -> (&[Group], &'static str) {
        (&self.groups, self.group_label)
    }

    /// The group that declares `stack`, by building each group alone.
    pub fn group_of(&self, stack: &str) -> Option<&'static str> {
        self.groups.iter().find_map(|g| {
            let app = App::new();
            (g.build)(&app).ok()?;
            app.stack_names()
                .iter()
                .any(|n| n == stack)
                .then_some(g.name)
        })
    }

    /// Whether `app =` in the project's settings takes over from the built-in stacks.
    pub fn defers_to_configured_app(&self) -> bool {
        self.configured_app
    }
}

static CURRENT: RwLock<Option<Program>> = RwLock::new(None);

/// The program being run (set by [`Program::run`]).
pub(crate) fn current() -> Program {
    CURRENT
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| Program::new(|_| Ok(())))
}

/// Run the full CLI over the stacks `build` adds; the whole `main` of a user's program:
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     ordersctl::cli::main(|app| {
///         app.stack("Jobs").queue("Work").build()?;
///         Ok(())
///     })
/// }
/// ```
pub fn main(build: impl Fn(&App) -> Result<(), SynthError> + Send + Sync + 'static) -> ExitCode {
    Program::new(build).main()
}

//! The root of a construct tree: the stacks of one application.

use std::cell::RefCell;
use std::rc::Rc;

use typed_arena::Arena;

use super::stack::{Stack, StackState};
use super::{AssetSource, PlaceholderAssets, Removal, SynthError};
use crate::template::StackId;

/// An application: a set of stacks. Blueprints take `&App` and add stacks to it.
///
/// ```
/// use ordersctl::constructs::{App, Duration};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let dlq = stack.queue("Dlq").retention(Duration::days(14)).build().unwrap();
/// assert_eq!(dlq.path(), "Demo/Dlq");
/// ```
pub struct App {
    stage: Stage,
    assets: Box<dyn AssetSource>,
    // Stacks live in an arena so that `&Stack` (and the handles that hold it) stay valid
    // while more stacks are added: cross-stack references need both alive at once.
    arena: Arena<Stack>,
    states: RefCell<Vec<Rc<RefCell<StackState>>>>,
    errors: RefCell<Vec<SynthError>>,
    /// Set by [`App::assure_handlers`]; every stack reads it when it is finalized.
    handlers_assured: Rc<std::cell::Cell<bool>>,
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .states
            .borrow()
            .iter()
            .map(|s| s.borrow().name.clone())
            .collect();
        f.debug_struct("App").field("stacks", &names).finish()
    }
}

/// A deployment stage. Production keeps stateful resources when a stack goes; development
/// cleans up after itself.
///
/// ```
/// use ordersctl::constructs::{App, Removal, Stage};
/// assert_eq!(App::with_stage(Stage::Prod).stage().removal(), Removal::Retain);
/// assert_eq!("dev".parse::<Stage>(), Ok(Stage::Dev));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    #[default]
    Dev,
    Prod,
}

impl Stage {
    /// Removal policy of tables and queues in this stage: Retain in prod, Destroy in dev.
    pub fn removal(self) -> Removal {
        match self {
            Stage::Dev => Removal::Destroy,
            Stage::Prod => Removal::Retain,
        }
    }

    /// `dev` or `prod`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Dev => "dev",
            Stage::Prod => "prod",
        }
    }
}

impl std::str::FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dev" => Ok(Stage::Dev),
            "prod" => Ok(Stage::Prod),
            other => Err(format!("stage `{other}` is not known; allowed: dev, prod")),
        }
    }
}

/// Longest stack name CloudFormation accepts.
const MAX_STACK_NAME: usize = 128;

impl App {
    /// An empty application.
    pub fn new() -> Self {
        App::with_stage(Stage::Dev)
    }

    /// An empty application for a deployment stage; blueprints read it with [`App::stage`].
    pub fn with_stage(stage: Stage) -> Self {
        App {
            stage,
            assets: Box::new(PlaceholderAssets),
            arena: Arena::new(),
            states: RefCell::new(Vec::new()),
            errors: RefCell::new(Vec::new()),
            handlers_assured: Rc::default(),
        }
    }

    /// Vouch for the handlers this app deploys: they log no personal or payment data, keep no
    /// secrets in their environment variables, call only AWS APIs (over their public
    /// endpoints), are bounded in concurrency where load enters, and its tables need no
    /// customer-managed key. ordersctl then records the security-scanner exceptions that
    /// follow from that (checkov CKV_AWS_158, 173, 117, 115, 119), each with that reason. An
    /// app that does not vouch gets none of them: those findings are the user's to settle
    /// (or suppress with their own reason), as cdk-nag leaves them.
    ///
    /// ```
    /// use ordersctl::constructs::App;
    /// let app = App::new();
    /// app.assure_handlers();
    /// let f = app.stack("S").function("F").handler_crate("worker").build()?;
    /// let asm = ordersctl::synth::synthesize(&app)?;
    /// assert!(asm.stacks[0].template.suppressions().iter().any(|s| s.rule == "CKV_AWS_173"));
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn assure_handlers(&self) {
        self.handlers_assured.set(true);
    }

    /// Use this source for function code asset keys (the CLI's fingerprinting bundler source).
    pub fn with_asset_source(mut self, source: Box<dyn AssetSource>) -> Self {
        self.assets = source;
        self
    }

    pub(crate) fn asset_source(&self) -> &dyn AssetSource {
        self.assets.as_ref()
    }

    /// The deployment stage this app is synthesized for.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Add a stack. A name CloudFormation would refuse, or a name used twice, is reported by
    /// synth (the stack is still returned so that the blueprint reads straight through).
    pub fn stack(&self, name: &str) -> &Stack {
        if let Some(message) = stack_name_problem(name) {
            self.errors
                .borrow_mut()
                .push(SynthError::invalid(name, message));
        }
        if self.states.borrow().iter().any(|s| s.borrow().name == name) {
            self.errors.borrow_mut().push(SynthError::invalid(
                name,
                "a stack with this name already exists in the app",
            ));
        }
        let id = StackId(u32::try_from(self.states.borrow().len()).unwrap_or(u32::MAX));
        let mut state = StackState::new(name);
        state.handlers_assured = Rc::clone(&self.handlers_assured);
        let state = Rc::new(RefCell::new(state));
        self.states.borrow_mut().push(Rc::clone(&state));
        self.arena.alloc(Stack::new(id, name, state))
    }

    /// Names of the stacks, in the order they were added.
    pub fn stack_names(&self) -> Vec<String> {
        self.states
            .borrow()
            .iter()
            .map(|s| s.borrow().name.clone())
            .collect()
    }

    pub(crate) fn states(&self) -> Vec<Rc<RefCell<StackState>>> {
        self.states.borrow().clone()
    }

    pub(crate) fn first_error(&self) -> Option<SynthError> {
        self.errors.borrow().first().cloned()
    }
}

fn stack_name_problem(name: &str) -> Option<String> {
    let allowed =
        "allowed: 1 to 128 characters, letters, digits and hyphens, starting with a letter";
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let starts = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if name.is_empty() || name.len() > MAX_STACK_NAME || !ok_chars || !starts {
        return Some(format!("`{name}` is not a valid stack name; {allowed}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_and_duplicate_stack_names_are_synth_errors() {
        let app = App::new();
        app.stack("Good-1");
        assert!(app.first_error().is_none());
        app.stack("Good-1");
        assert!(app
            .first_error()
            .unwrap()
            .to_string()
            .contains("already exists"));
        let app = App::new();
        app.stack("1bad");
        assert!(app
            .first_error()
            .unwrap()
            .to_string()
            .contains("allowed: 1 to 128 characters"));
    }
}

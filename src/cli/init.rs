//! `ordersctl init [DIR]`: a new project that builds and passes its tests at once.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::constructs::App;

/// The starter stack, compiled here as well as written into the project: the snapshot
/// `init` writes is this code's template, so it cannot drift from the file the user gets.
#[path = "init/infra_lib.rs"]
mod starter;

/// Write a new project: a Cargo workspace with an `infra` crate (one queue -> function ->
/// table stack, and the CLI over it), a `handlers/hello` Lambda crate, `ordersctl.toml`, an
/// assertions test, a snapshot test and a README with the two commands.
///
/// Examples:
///   ordersctl init my-service
///   ordersctl init my-service --ordersctl-path ../ordersctl
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    /// Directory for the project: new, or empty [default: the current directory]
    dir: Option<PathBuf>,
    /// Depend on an ordersctl checkout at this path instead of the published crate.
    #[arg(long, value_name = "DIR")]
    ordersctl_path: Option<PathBuf>,
}

/// (path in the project, content).
fn files(name: &str, ordersctl: &str, snapshot: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "Cargo.toml",
            include_str!("init/workspace.toml").replace("{ORDERSCTL}", ordersctl),
        ),
        ("ordersctl.toml", include_str!("init/ordersctl.toml").into()),
        (".gitignore", include_str!("init/gitignore").into()),
        (
            "README.md",
            include_str!("init/README.md").replace("{NAME}", name),
        ),
        ("infra/Cargo.toml", include_str!("init/infra.toml").into()),
        ("infra/src/lib.rs", include_str!("init/infra_lib.rs").into()),
        (
            "infra/src/main.rs",
            include_str!("init/infra_main.rs").into(),
        ),
        (
            "infra/tests/stack.rs",
            include_str!("init/infra_test.rs").into(),
        ),
        (
            "infra/tests/snapshots/stack__Hello.template.json.snap",
            snapshot.into(),
        ),
        (
            "handlers/hello/Cargo.toml",
            include_str!("init/hello.toml").into(),
        ),
        (
            "handlers/hello/src/main.rs",
            include_str!("init/hello_main.rs").into(),
        ),
        (
            "handlers/hello/src/lib.rs",
            include_str!("init/hello_lib.rs").into(),
        ),
    ]
}

/// The insta snapshot of the starter stack's template.
fn starter_snapshot() -> Result<String> {
    let app = App::new();
    starter::stacks(&app).context("the starter stack does not synthesize")?;
    let assembly =
        crate::synth::synthesize(&app).context("the starter stack does not synthesize")?;
    let template = assembly
        .stack("Hello")
        .context("the starter has no Hello stack")?
        .template
        .to_json_string();
    Ok(format!(
        "---\nsource: infra/tests/stack.rs\nexpression: template\n---\n{template}\n"
    ))
}

/// How the project depends on ordersctl: a checkout's path, or this version.
fn dependency(path: Option<&Path>) -> Result<String> {
    let Some(path) = path else {
        let version = env!("CARGO_PKG_VERSION");
        let minor = version.rsplit_once('.').map_or(version, |(mm, _)| mm);
        return Ok(format!("{{ version = \"{minor}\" }}"));
    };
    let manifest = path.join("Cargo.toml");
    let text = crate::synth::reader::read_input(&manifest).map_err(|e| {
        anyhow::anyhow!(
            "--ordersctl-path {}: {}: {e}",
            path.display(),
            manifest.display()
        )
    })?;
    let name = toml::from_str::<toml::Table>(&text)
        .ok()
        .and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_string));
    if name.as_deref() != Some("ordersctl") {
        bail!(
            "--ordersctl-path {}: its Cargo.toml is not the ordersctl package",
            path.display()
        );
    }
    let absolute =
        fs::canonicalize(path).with_context(|| format!("--ordersctl-path {}", path.display()))?;
    Ok(format!(
        "{{ path = {} }}",
        toml_string(&absolute.to_string_lossy())
    ))
}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn run(args: InitArgs) -> Result<()> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    // Paths end up in Cargo.toml and the README: they must be text.
    for (flag, p) in [
        ("DIR", Some(&dir)),
        ("--ordersctl-path", args.ordersctl_path.as_ref()),
    ] {
        if let Some(p) = p {
            if p.to_str().is_none() {
                bail!(
                    "{flag} {}: is not valid UTF-8; nothing was written",
                    p.display()
                );
            }
        }
    }
    // `a/..` names a directory other than the one it seems to (and `a` may not exist yet):
    // `..` may only lead the path.
    let mut seen_name = false;
    for c in dir.components() {
        match c {
            std::path::Component::ParentDir if seen_name => bail!(
                "{}: steps back out of a directory it names (`..` after a name); name the project directory directly; nothing was written",
                dir.display()
            ),
            std::path::Component::Normal(_) => seen_name = true,
            _ => {}
        }
    }
    // A link to a directory is followed: the user named it.
    match fs::metadata(&dir) {
        Ok(m) if !m.is_dir() => bail!(
            "{}: exists and is not a directory; nothing was written",
            dir.display()
        ),
        Ok(_) => {
            let mut entries =
                fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
            if let Some(e) = entries.find(|e| e.as_ref().map_or(true, |e| e.file_name() != ".git"))
            {
                let what = e
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .unwrap_or_default();
                bail!(
                    "{}: is not empty (it holds {what}); init writes a new project only into a new or empty directory; nothing was written",
                    dir.display()
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => bail!("{}: {e}; nothing was written", dir.display()),
    }
    let ordersctl = dependency(args.ordersctl_path.as_deref())?;
    let snapshot = starter_snapshot()?;
    // Exactly what this run creates (directories, then files) is taken back on failure; nothing
    // else is ever removed.
    let mut made = Made::default();
    let result = made.dir_all(&dir).and_then(|()| {
        let name = fs::canonicalize(&dir)
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "service".into());
        write_all(&mut made, &dir, &files(&name, &ordersctl, &snapshot)).map(|()| name)
    });
    let name = match result {
        Ok(name) => name,
        Err(e) => {
            made.undo();
            return Err(e.context("init failed; what it had written was removed"));
        }
    };
    errln!("created the project {name} in {}", dir.display());
    if let Some(outer) = enclosing_workspace(&dir) {
        errln!(
            "warning: {} is inside the Cargo workspace of {}; if that workspace's members match it, add it to its `exclude` (a workspace cannot hold another)",
            dir.display(),
            outer.display()
        );
    }
    errln!("next:");
    if dir != Path::new(".") {
        errln!("  cd {}", shell_quoted(&dir.to_string_lossy()));
    }
    errln!("  cargo run --quiet --bin infra -- synth");
    errln!("  cargo test --workspace");
    Ok(())
}

/// The nearest directory above `dir` whose Cargo.toml declares a `[workspace]`.
fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    let dir = fs::canonicalize(dir).ok()?;
    dir.ancestors().skip(1).find_map(|a| {
        let text = fs::read_to_string(a.join("Cargo.toml")).ok()?;
        let table: toml::Table = toml::from_str(&text).ok()?;
        table.contains_key("workspace").then(|| a.to_path_buf())
    })
}

/// `s` as one shell word.
fn shell_quoted(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// What a run has created, in order.
#[derive(Default)]
struct Made {
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

impl Made {
    /// `create_dir_all`, remembering each directory it makes.
    fn dir_all(&mut self, dir: &Path) -> Result<()> {
        let missing: Vec<&Path> = dir
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_err())
            .collect();
        for d in missing.into_iter().rev() {
            fs::create_dir(d).with_context(|| format!("cannot create {}", d.display()))?;
            self.dirs.push(d.to_path_buf());
        }
        Ok(())
    }

    /// Remove the files, then the directories (innermost first, only while empty).
    fn undo(&self) {
        for f in self.files.iter().rev() {
            let _ = fs::remove_file(f);
        }
        for d in self.dirs.iter().rev() {
            let _ = fs::remove_dir(d);
        }
    }
}

fn write_all(made: &mut Made, dir: &Path, files: &[(&str, String)]) -> Result<()> {
    for (path, content) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            made.dir_all(parent)?;
        }
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .with_context(|| format!("cannot write {}", target.display()))?;
        made.files.push(target.clone());
        std::io::Write::write_all(&mut f, content.as_bytes())
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

//! The cloud assembly: the contract between synth and deploy/diff.

use std::collections::{BTreeMap, BTreeSet};

pub use super::manifest::MANIFEST_VERSION;
use super::manifest::{AssetEntry, Environment, Manifest, StackEntry};
use crate::constructs::{App, Asset, AssetSource, Stage, SynthError};
use crate::template::{Expr, Format, Output, StackId, Template};

/// One synthesized stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackArtifact {
    pub name: String,
    pub template: Template,
    /// Stacks this one imports from (deploy them first).
    pub dependencies: Vec<String>,
    pub assets: Vec<Asset>,
    /// The template exactly as read from an assembly's file: deploy sends these bytes, the
    /// file that was reviewed, not a re-rendering. `None`: synthesized, render the model.
    pub body: Option<String>,
}

impl StackArtifact {
    /// SHA-256 of the rendered template and the asset fingerprints: changes exactly when what
    /// would be deployed changes.
    ///
    /// ```
    /// use ordersctl::constructs::App;
    /// use ordersctl::template::Format;
    /// let app = App::new();
    /// app.stack("A").queue("Q").build().unwrap();
    /// let asm = ordersctl::synth::synthesize(&app).unwrap();
    /// assert_eq!(asm.stacks[0].fingerprint(Format::Json).len(), 64);
    /// ```
    pub fn fingerprint(&self, format: Format) -> String {
        self.fingerprint_of(&self.template.render(format))
    }

    /// The fingerprint, given the template already rendered.
    fn fingerprint_of(&self, rendered: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(rendered.as_bytes());
        for a in &self.assets {
            h.update([0]);
            h.update(a.fingerprint.as_deref().unwrap_or(&a.s3_key).as_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// File name of the template in the assembly directory.
    pub fn template_file(&self, format: Format) -> String {
        format!("{}.template.{}", self.name, format.extension())
    }
}

/// Every stack of an app, in dependency order (a stack after the stacks it imports from).
#[derive(Debug, Clone, PartialEq)]
pub struct Assembly {
    pub stacks: Vec<StackArtifact>,
    /// The stage the app was synthesized for.
    pub stage: Stage,
}

impl Assembly {
    /// The stack with this name.
    pub fn stack(&self, name: &str) -> Option<&StackArtifact> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// `manifest.json` content.
    pub fn manifest(&self, format: Format) -> Manifest {
        let rendered: Vec<String> = self
            .stacks
            .iter()
            .map(|s| s.template.render(format))
            .collect();
        self.manifest_of(format, &rendered)
    }

    /// `manifest.json` content, given each stack's template already rendered (the writer
    /// renders once for the file and the fingerprint both).
    pub(crate) fn manifest_of(&self, format: Format, rendered: &[String]) -> Manifest {
        let stacks = self
            .stacks
            .iter()
            .zip(rendered)
            .map(|(s, text)| {
                let assets = s
                    .assets
                    .iter()
                    .map(|a| AssetEntry {
                        id: a.function.clone(),
                        path: a.path.clone(),
                        kind: "lambda-zip".into(),
                        handler_crate: a.handler_crate.clone(),
                        s3_key: a.s3_key.clone(),
                        fingerprint: a.fingerprint.clone(),
                        architecture: a.architecture.as_str().into(),
                        bucket_parameter: crate::constructs::ASSET_BUCKET_PARAMETER.into(),
                    })
                    .collect();
                let entry = StackEntry {
                    template: s.template_file(format),
                    // What the stack is made of, not when: synth stays byte-identical.
                    fingerprint: s.fingerprint_of(text),
                    dependencies: s.dependencies.clone(),
                    environment: Environment {
                        account: "unknown-account".into(),
                        region: "unknown-region".into(),
                    },
                    resource_count: s.template.resources.len(),
                    outputs: s.template.outputs.keys().cloned().collect(),
                    assets,
                    suppressions: s.template.suppressions(),
                };
                (s.name.clone(), entry)
            })
            .collect();
        Manifest {
            version: MANIFEST_VERSION.into(),
            stage: self.stage.as_str().into(),
            stacks,
        }
    }
}

/// Synthesize an app: finalize stacks, turn cross-stack references into exports and
/// imports, order the stacks. Same app in, byte-identical assembly out.
///
/// ```
/// use ordersctl::constructs::App;
/// use ordersctl::synth::synthesize;
/// let app = App::new();
/// let shared = app.stack("Shared");
/// let q = shared.queue("Jobs").build().unwrap();
/// let user = app.stack("User");
/// user.output("JobsUrl", q.url());
/// let asm = synthesize(&app).unwrap();
/// assert_eq!(asm.stack("User").unwrap().dependencies, vec!["Shared".to_string()]);
/// ```
pub fn synthesize(app: &App) -> Result<Assembly, SynthError> {
    if let Some(e) = app.first_error() {
        return Err(e);
    }
    let states = app.states();
    let mut templates = Vec::with_capacity(states.len());
    let mut names = Vec::with_capacity(states.len());
    let mut assets = Vec::with_capacity(states.len());
    for s in &states {
        let st = s.borrow();
        let mut template = st.finalize()?;
        let mut stack_assets = st.assets.clone();
        resolve_assets(app.asset_source(), &mut template, &mut stack_assets)?;
        templates.push(template);
        names.push(st.name.clone());
        assets.push(stack_assets);
    }
    let (deps, uses) = wire_cross_stack(&names, &mut templates);
    for (name, t) in names.iter().zip(&templates) {
        t.validate_ids()
            .map_err(|e| SynthError::invalid(name.as_str(), e.to_string()))?;
    }
    let order = topo_order(&names, &deps, &uses)?;
    let mut slots: Vec<Option<(Template, Vec<Asset>)>> =
        templates.into_iter().zip(assets).map(Some).collect();
    let stacks = order
        .into_iter()
        .map(|i| {
            let (template, assets) = slots[i].take().expect("each stack once");
            StackArtifact {
                name: names[i].clone(),
                template,
                dependencies: deps[i].iter().map(|d| names[*d].clone()).collect(),
                assets,
                body: None,
            }
        })
        .collect();
    Ok(Assembly {
        stacks,
        stage: app.stage(),
    })
}

/// Ask the asset source for each function's code key and point the template at it.
fn resolve_assets(
    source: &dyn AssetSource,
    template: &mut Template,
    assets: &mut [Asset],
) -> Result<(), SynthError> {
    for asset in assets.iter_mut() {
        let key = source
            .asset_key(&asset.handler_crate, asset.architecture)
            .map_err(|why| SynthError::invalid(asset.path.as_str(), why))?;
        if let Some(f) = template.resources.get_mut(&asset.function) {
            f.set_path(&["Code", "S3Key"], Expr::from(key.s3_key.as_str()));
        }
        asset.s3_key = key.s3_key;
        asset.fingerprint = key.fingerprint;
    }
    Ok(())
}

/// Replace every `Ref`/`GetAtt` owned by another stack with `Fn::ImportValue` of an export
/// that the owning stack gains. Returns, per stack, the stacks it imports from.
/// Per (importing stack, owning stack), the first export it uses (to name a cycle's cause).
type Uses = BTreeMap<(usize, usize), String>;

fn wire_cross_stack(names: &[String], templates: &mut [Template]) -> (Vec<BTreeSet<usize>>, Uses) {
    let mut deps = vec![BTreeSet::new(); templates.len()];
    let mut uses = Uses::new();
    // (owner stack, output id) -> value to export, collected first, added after.
    let mut exports: BTreeMap<(usize, String), (Expr, String)> = BTreeMap::new();
    for (i, t) in templates.iter_mut().enumerate() {
        let me = StackId(i as u32);
        t.walk_exprs_mut(&mut |e| {
            let (target, attr) = match e {
                Expr::Ref(t) => (t.clone(), None),
                Expr::GetAtt(t, a) => (t.clone(), Some(a.clone())),
                _ => return,
            };
            let Some(owner) = target.owner.filter(|o| *o != me) else {
                return;
            };
            let owner_ix = owner.0 as usize;
            let attr_part: String = attr
                .as_deref()
                .unwrap_or("Ref")
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            let output_id = format!("Export{}{}", target.logical_id, attr_part);
            let export_name = format!("{}:{}{}", names[owner_ix], target.logical_id, attr_part);
            let local = match &attr {
                None => Expr::ref_(target.logical_id.clone()),
                Some(a) => Expr::get_att(target.logical_id.clone(), a.clone()),
            };
            exports.insert((owner_ix, output_id), (local, export_name.clone()));
            deps[i].insert(owner_ix);
            uses.entry((i, owner_ix))
                .or_insert_with(|| export_name.clone());
            *e = Expr::import_value(export_name);
        });
    }
    for ((owner, output_id), (value, export_name)) in exports {
        let mut o = Output::new(value);
        o.export_name = Some(Expr::from(export_name));
        templates[owner].outputs.insert(output_id, o);
    }
    (deps, uses)
}

fn topo_order(
    names: &[String],
    deps: &[BTreeSet<usize>],
    uses: &Uses,
) -> Result<Vec<usize>, SynthError> {
    // Kahn's algorithm, stable: among ready stacks, declaration order wins.
    let mut done = vec![false; names.len()];
    let mut order = Vec::with_capacity(names.len());
    while order.len() < names.len() {
        let next = (0..names.len()).find(|&i| !done[i] && deps[i].iter().all(|d| done[*d]));
        match next {
            Some(i) => {
                done[i] = true;
                order.push(i);
            }
            None => {
                let stuck: Vec<usize> = (0..names.len()).filter(|&i| !done[i]).collect();
                // Which reference makes each stack of the circle wait for another.
                let why: Vec<String> = uses
                    .iter()
                    .filter(|((a, b), _)| stuck.contains(a) && stuck.contains(b))
                    .map(|((a, _), export)| format!("{} uses {export}", names[*a]))
                    .collect();
                let stacks: Vec<&str> = stuck.iter().map(|&i| names[i].as_str()).collect();
                return Err(SynthError::StackCycle(format!(
                    "{} ({})",
                    stacks.join(", "),
                    why.join("; ")
                )));
            }
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_stack_reference_becomes_export_and_import() {
        let app = App::new();
        let a = app.stack("A");
        let q = a.queue("Jobs").build().unwrap();
        let b = app.stack("B");
        b.output("JobsArn", q.arn());
        let asm = synthesize(&app).unwrap();
        let a_t = &asm.stack("A").unwrap().template;
        let out = &a_t.outputs["ExportJobsArn"];
        assert_eq!(out.value, Expr::get_att("Jobs", "Arn"));
        assert_eq!(out.export_name, Some(Expr::from("A:JobsArn")));
        let b_t = &asm.stack("B").unwrap().template;
        assert_eq!(
            b_t.outputs["JobsArn"].value,
            Expr::import_value("A:JobsArn")
        );
    }

    #[test]
    fn stacks_come_in_dependency_order_and_cycles_are_errors() {
        let app = App::new();
        let b = app.stack("B");
        let a = app.stack("A");
        let qa = a.queue("Qa").build().unwrap();
        b.output("X", qa.url());
        let names: Vec<String> = synthesize(&app)
            .unwrap()
            .stacks
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["A", "B"]);
        let qb = b.queue("Qb").build().unwrap();
        a.output("Y", qb.url());
        let e = synthesize(&app).unwrap_err();
        assert!(matches!(e, SynthError::StackCycle(_)));
        // The message names what each stack of the circle uses from the other.
        let text = e.to_string();
        assert!(
            text.contains("A uses B:") && text.contains("B uses A:"),
            "{text}"
        );
    }
}

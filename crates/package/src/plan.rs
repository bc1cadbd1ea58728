//! What goes into a package: the evidence of a round chosen by the options, arranged by
//! the indicator tree, each file with its path in the archive and its 材料编号.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use fazhi_store::{
    Evidence, EvidenceKind, NodeId, RoundId, RoundInfo, Store, StoredNode, TaskFilter, TaskSummary,
    UnitId, Verdict,
};
use serde::{Deserialize, Serialize};

use crate::PackageError;
use crate::names::{self, HeadingName, PathBuilder};

/// Fixed names at the top of the archive.
pub const CATALOG_XLSX: &str = "目录.xlsx";
pub const CATALOG_PDF: &str = "目录.pdf";
pub const README_TXT: &str = "说明.txt";
pub const MANIFEST_JSON: &str = "manifest.json";

/// The county's time zone (UTC+8), for dates shown to people and zip timestamps.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"))
}

/// Output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageFormat {
    /// The archive (.zip).
    #[default]
    Zip,
    /// The bound volume (.pdf).
    Pdf,
}

/// What a package covers, as asked (names, not ids, so a job's parameters read well).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageParams {
    #[serde(default)]
    pub format: PackageFormat,
    /// The round; `None`: the active one.
    #[serde(default)]
    pub round: Option<RoundId>,
    /// One unit's evidence only (name or alias).
    #[serde(default)]
    pub unit: Option<String>,
    /// One 一级指标 only: its code (`一`) or its title.
    #[serde(default)]
    pub heading: Option<String>,
    /// Every evidence item with its verdict, instead of the approved (合格) ones only.
    #[serde(default)]
    pub all: bool,
}

/// One review as shown in the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewLine {
    pub verdict: Option<Verdict>,
    pub reviewer: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

impl ReviewLine {
    fn of(e: &Evidence) -> Self {
        match e.current_review() {
            Some(r) => ReviewLine {
                verdict: Some(r.verdict),
                reviewer: Some(r.reviewer_name.clone()),
                at: Some(r.at),
                note: r.note.clone(),
            },
            None => ReviewLine {
                verdict: None,
                reviewer: None,
                at: None,
                note: None,
            },
        }
    }

    /// 合格 / 需补充 / 未审核.
    pub fn label(&self) -> &'static str {
        self.verdict.map_or("未审核", Verdict::label)
    }
}

/// Where an item sits in the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// `1-1-001-01`.
    pub material_no: String,
    /// Headings above the indicator (一级 first): `(code, title)`.
    pub headings: Vec<(String, String)>,
    pub indicator_code: String,
    pub indicator_text: String,
    pub unit: String,
}

/// A file to pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedFile {
    pub place: Placement,
    /// Path in the archive.
    pub path: String,
    pub evidence_id: i64,
    pub version: u32,
    pub title: String,
    pub doc_number: Option<String>,
    pub doc_date: Option<NaiveDate>,
    pub original_name: Option<String>,
    pub content_type: String,
    pub size: u64,
    /// SHA-256 as recorded at upload.
    pub sha256: String,
    pub review: ReviewLine,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by: String,
}

/// A link (网络检索 evidence): listed, not packed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedLink {
    pub place: Placement,
    pub evidence_id: i64,
    pub version: u32,
    pub title: String,
    pub url: String,
    pub published_on: Option<NaiveDate>,
    pub review: ReviewLine,
    pub added_at: DateTime<Utc>,
    pub added_by: String,
}

/// Everything a package holds, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub params: PackageParams,
    pub round: RoundInfo,
    pub framework_title: String,
    /// The unit chosen (`params.unit` resolved).
    pub unit: Option<(UnitId, String)>,
    /// The 一级指标 chosen: `(code, title)`.
    pub heading: Option<(String, String)>,
    pub files: Vec<PlannedFile>,
    pub links: Vec<PlannedLink>,
    /// Items left out because they are not approved (only counted).
    pub left_out_unapproved: usize,
}

impl Plan {
    /// Total bytes of the files to pack.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// The options in words, for 说明.txt and the page: `2026年度 · 全部单位 · 全部指标 · 仅合格材料`.
    pub fn scope_label(&self) -> String {
        let unit = self
            .unit
            .as_ref()
            .map_or("全部责任单位".to_string(), |u| u.1.clone());
        let heading = self
            .heading
            .as_ref()
            .map_or("全部指标".to_string(), |(c, t)| format!("{c}、{t}"));
        let which = if self.params.all {
            "全部材料（注明审核结论）"
        } else {
            "仅审核合格的材料"
        };
        format!("{} · {unit} · {heading} · {which}", self.round.name)
    }
}

/// A leaf with its headings (each with its 1-based position among its siblings) and its
/// own position.
type Leaf<'a> = (Vec<(&'a StoredNode, usize)>, &'a StoredNode, usize);

/// A 一级 code or title matches `wanted` (`一`, `一、`, `政府职能依法全面履行`).
fn heading_matches(node: &StoredNode, wanted: &str) -> bool {
    let w = wanted.trim().trim_end_matches(['、', '.', '．']);
    !w.is_empty()
        && (node.code == w
            || node.title == w
            || format!("{}、{}", node.code, node.title) == wanted.trim())
}

/// 1-based position as a number string; a numeric code keeps its value.
fn code_number(code: &str, position: usize) -> String {
    let c = code.trim();
    if !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) {
        let t = c.trim_start_matches('0');
        if t.is_empty() { "0" } else { t }.to_string()
    } else {
        position.to_string()
    }
}

/// Reads what the package holds. Fails with a clear message when the round, unit or
/// heading does not exist.
pub async fn plan(store: &Store, params: &PackageParams) -> Result<Plan, PackageError> {
    let round = match params.round {
        Some(id) => store.round(id).await?,
        None => store.active_round().await?.ok_or_else(|| {
            PackageError::Invalid("没有进行中的轮次，请用 --round 指定轮次".into())
        })?,
    };
    let framework = store.framework_tree(round.framework_id).await?;
    let unit = match params
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(name) => {
            let id = store
                .find_unit(name)
                .await?
                .ok_or_else(|| PackageError::Invalid(format!("没有名为“{name}”的责任单位")))?;
            Some((id, store.unit(id).await?.name))
        }
        None => None,
    };
    let heading_root = match params
        .heading
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        Some(wanted) => Some(
            framework
                .roots
                .iter()
                .find(|n| heading_matches(n, wanted))
                .ok_or_else(|| {
                    PackageError::Invalid(format!("指标体系中没有一级指标“{wanted}”"))
                })?,
        ),
        None => None,
    };

    let tasks: HashMap<_, TaskSummary> = store
        .tasks(&TaskFilter {
            round: Some(round.id),
            unit: unit.as_ref().map(|u| u.0),
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut by_node: HashMap<NodeId, Vec<(&TaskSummary, Evidence)>> = HashMap::new();
    for e in store
        .round_evidence(round.id, unit.as_ref().map(|u| u.0))
        .await?
    {
        if let Some(t) = tasks.get(&e.task_id) {
            by_node.entry(t.node_id).or_default().push((t, e));
        }
    }

    let mut paths = PathBuilder::new();
    for fixed in [CATALOG_XLSX, CATALOG_PDF, README_TXT, MANIFEST_JSON] {
        paths.reserve(fixed);
    }
    let mut files = Vec::new();
    let mut links = Vec::new();
    let mut left_out = 0;

    // Walk the tree in document order, remembering each heading's 1-based position.
    let mut stack: Vec<(&StoredNode, usize)> = Vec::new();
    fn walk<'a>(
        nodes: &'a [StoredNode],
        stack: &mut Vec<(&'a StoredNode, usize)>,
        out: &mut Vec<Leaf<'a>>,
    ) {
        for (i, node) in nodes.iter().enumerate() {
            if node.is_leaf {
                out.push((stack.clone(), node, i + 1));
            } else {
                stack.push((node, i + 1));
                walk(&node.children, stack, out);
                stack.pop();
            }
        }
    }
    let mut leaves = Vec::new();
    walk(&framework.roots, &mut stack, &mut leaves);

    for (ancestors, leaf, leaf_pos) in leaves {
        if let Some(root) = heading_root
            && ancestors.first().map(|a| a.0.id) != Some(root.id)
        {
            continue;
        }
        let Some(mut items) = by_node.remove(&leaf.id) else {
            continue;
        };
        // Units in the order of the responsibility list (牵头 first), then as added.
        let unit_rank = |name: &str| {
            leaf.assignments
                .iter()
                .position(|a| a.unit_name == name)
                .unwrap_or(usize::MAX)
        };
        items.sort_by_key(|(t, e)| (unit_rank(&t.unit_name), t.unit_name.clone(), e.id));

        let mut number: Vec<String> = ancestors.iter().map(|(_, pos)| pos.to_string()).collect();
        number.push(format!("{:0>3}", code_number(&leaf.code, leaf_pos)));
        let heading_names: Vec<HeadingName<'_>> = ancestors
            .iter()
            .map(|(n, _)| HeadingName {
                code: &n.code,
                title: &n.title,
            })
            .collect();
        let mut seq = 0usize;
        for (task, e) in items {
            let review = ReviewLine::of(&e);
            if !params.all && review.verdict != Some(Verdict::Ok) {
                left_out += 1;
                continue;
            }
            let Some(version) = e.current() else {
                continue;
            };
            seq += 1;
            let place = Placement {
                material_no: format!("{}-{seq:02}", number.join("-")),
                headings: ancestors
                    .iter()
                    .map(|(n, _)| (n.code.clone(), n.title.clone()))
                    .collect(),
                indicator_code: leaf.code.clone(),
                indicator_text: leaf.title.clone(),
                unit: task.unit_name.clone(),
            };
            match (e.kind, version.blob.as_ref()) {
                (EvidenceKind::File, Some(blob)) => {
                    let folders =
                        names::folders(&heading_names, &leaf.code, &leaf.title, &task.unit_name);
                    let ext =
                        names::extension(version.original_name.as_deref(), &blob.content_type);
                    let path = paths.file(
                        &folders,
                        &format!("{} {}", place.material_no, e.title),
                        ext.as_deref(),
                    );
                    files.push(PlannedFile {
                        place,
                        path,
                        evidence_id: e.id.0,
                        version: version.version,
                        title: e.title.clone(),
                        doc_number: e.doc_number.clone(),
                        doc_date: e.doc_date,
                        original_name: version.original_name.clone(),
                        content_type: blob.content_type.clone(),
                        size: blob.size,
                        sha256: blob.sha256.clone(),
                        review,
                        uploaded_at: version.created_at,
                        uploaded_by: version.created_by_name.clone(),
                    });
                }
                _ => links.push(PlannedLink {
                    place,
                    evidence_id: e.id.0,
                    version: version.version,
                    title: e.title.clone(),
                    url: version.url.clone().unwrap_or_default(),
                    published_on: version.published_on,
                    review,
                    added_at: version.created_at,
                    added_by: version.created_by_name.clone(),
                }),
            }
        }
    }
    Ok(Plan {
        params: params.clone(),
        framework_title: framework.info.title.clone(),
        round,
        unit,
        heading: heading_root.map(|n| (n.code.clone(), n.title.clone())),
        files,
        links,
        left_out_unapproved: left_out,
    })
}

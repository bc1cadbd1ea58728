//! `fazhi rules`.

use serde_json::{Value, json};

use crate::{fazhi, stderr, stdout};

fn rules_of(all: &Value, indicator: &str) -> Vec<Value> {
    all.as_array()
        .unwrap()
        .iter()
        .find(|r| r["indicator"] == indicator)
        .map(|r| r["rules"].as_array().unwrap().clone())
        .unwrap_or_default()
}

#[test]
fn seed_rules_as_json() {
    let out = fazhi(&[
        "rules",
        "data/seed/lanling-zerenfengong.txt",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let all: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let r25 = rules_of(&all, "25");
    let picked: Vec<Value> = r25
        .iter()
        .map(|r| json!({"kind": r["kind"], "op": r["op"], "value": r["value"], "unit": r.get("unit")}))
        .collect();
    assert_eq!(
        picked,
        vec![
            json!({"kind": "percent", "op": "==", "value": 100, "unit": null}),
            json!({"kind": "duration", "op": ">=", "value": 5, "unit": "workday"}),
            json!({"kind": "duration", "op": "<=", "value": 15, "unit": "workday"}),
        ]
    );
    assert!(
        r25[0]["subject"]
            .as_str()
            .unwrap()
            .ends_with("合法性审核率")
    );
    assert_eq!(r25[1]["subject"], "合法性审核的时间");
    assert!(
        rules_of(&all, "73").is_empty(),
        "hotline numbers are not thresholds"
    );
    let r50 = rules_of(&all, "50");
    assert_eq!(r50[0]["kind"], "deadline");
    assert_eq!(
        (r50[0]["month"].clone(), r50[0]["day"].clone()),
        (json!(1), json!(15))
    );
    // Every rule points back at its words.
    for entry in all.as_array().unwrap() {
        for rule in entry["rules"].as_array().unwrap() {
            assert!(!rule["source"].as_str().unwrap().is_empty());
            assert!(rule["span"][1].as_u64() > rule["span"][0].as_u64());
        }
    }
}

#[test]
fn seed_rules_as_text_mark_uncertain_ones() {
    let out = fazhi(&["rules", "data/seed/lanling-zerenfengong.txt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("第25项（二.1.25）"), "{text}");
    assert!(text.contains("合法性审核的时间 不少于 5个工作日"), "{text}");
    assert!(text.contains("【待核对】"), "{text}");
}

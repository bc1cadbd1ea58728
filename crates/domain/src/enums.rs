//! One way to name enum values as text: every field-less enum has `as_str` (its stored
//! and serialised form), `FromStr` (the inverse, with a [`ParseEnumError`]) and `ALL` (every
//! value, in declaration order). [`string_enum!`](crate::string_enum) writes all three
//! from one table, so a value cannot be stored under a name that does not read back.

/// A string that names no value of the enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("无法识别的{what}“{value}”")]
pub struct ParseEnumError {
    /// What was being read, in Chinese (e.g. `任务状态`).
    pub what: &'static str,
    pub value: String,
}

/// `string_enum!(Type, "中文名", { Variant => "text", … })` implements `Type::ALL`,
/// `Type::as_str` and `FromStr` for a field-less enum. The texts must equal the serde names
/// (a test per enum checks it where serde is derived).
#[macro_export]
macro_rules! string_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: [$ty; <[&str]>::len(&[$(stringify!($variant)),+])] = [$($ty::$variant),+];

            /// The stored (and serialised) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        $crate::string_enum!(@from_str $ty, $what);
    };
    (@from_str $ty:ident, $what:literal) => {
        impl std::str::FromStr for $ty {
            type Err = $crate::enums::ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::enums::ParseEnumError {
                        what: $what,
                        value: s.to_string(),
                    })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use crate::calendar::DayKind;
    use crate::diagnostic::{DiagnosticKind, Severity};
    use crate::framework::Role;
    use crate::measure::Compliance;
    use crate::rules::{DurationUnit, Op};
    use crate::supervision::{Light, NoticeLevel};
    use crate::task::{ActorRole, TaskActionKind, TaskStatus};
    use crate::unit::UnitKind;

    /// `as_str` is the serde name, `FromStr` reads it back, `ALL` lists each value once.
    fn agrees<T, const N: usize>(all: [T; N], as_str: fn(T) -> &'static str)
    where
        T: Copy + PartialEq + std::fmt::Debug + Serialize + DeserializeOwned + std::str::FromStr,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        for (i, v) in all.iter().enumerate() {
            let text = as_str(*v);
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(text));
            assert_eq!(text.parse::<T>().unwrap(), *v);
            assert!(!all[..i].contains(v), "{v:?} twice in ALL");
        }
        assert!("no such value".parse::<T>().is_err());
    }

    #[test]
    fn every_enum_names_its_values_as_serde_does() {
        agrees(Role::ALL, Role::as_str);
        agrees(UnitKind::ALL, UnitKind::as_str);
        agrees(DayKind::ALL, DayKind::as_str);
        agrees(Severity::ALL, Severity::as_str);
        agrees(DiagnosticKind::ALL, DiagnosticKind::as_str);
        agrees(Light::ALL, Light::as_str);
        agrees(NoticeLevel::ALL, NoticeLevel::as_str);
        agrees(Compliance::ALL, Compliance::as_str);
        agrees(Op::ALL, Op::as_str);
        agrees(DurationUnit::ALL, DurationUnit::as_str);
        agrees(TaskStatus::ALL, TaskStatus::as_str);
        agrees(TaskActionKind::ALL, TaskActionKind::as_str);
        agrees(ActorRole::ALL, ActorRole::as_str);
    }

    #[test]
    fn unknown_text_is_a_clear_error() {
        let err = "finished".parse::<TaskStatus>().unwrap_err();
        assert_eq!(err.to_string(), "无法识别的任务状态“finished”");
        assert_eq!(UnitKind::ALL.len(), 6);
        assert_eq!(Compliance::ALL.len(), 4);
    }
}

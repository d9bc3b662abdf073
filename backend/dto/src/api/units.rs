use serde::{Deserialize, Serialize};

use crate::UnitKind;

/// A unit by id and name, where another resource refers to it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unit {
    pub id: i64,
    pub region: String,
    pub name: String,
    pub kind: UnitKind,
    pub law_enforcement: bool,
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// The county the unit belongs to, e.g. 罗平县.
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub region: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub name: String,
    pub kind: UnitKind,
    #[serde(default)]
    pub law_enforcement: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<UnitKind>,
    #[serde(default)]
    pub law_enforcement: Option<bool>,
    /// Replaces the aliases.
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default, with = "super::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub note: Option<Option<String>>,
}

/// A collective phrase (各有关部门…) and the rule that expands it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitGroup {
    pub id: i64,
    pub region: String,
    pub phrase: String,
    pub member_kinds: Vec<UnitKind>,
    pub law_enforcement_only: bool,
    pub include: Vec<UnitRef>,
    pub exclude: Vec<UnitRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How many units the group expands to now.
    pub member_count: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUnitGroup {
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub region: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub phrase: String,
    #[serde(default)]
    pub member_kinds: Vec<UnitKind>,
    #[serde(default)]
    pub law_enforcement_only: bool,
    /// Unit ids added to the rule's members.
    #[serde(default)]
    pub include: Vec<i64>,
    /// Unit ids removed from the rule's members.
    #[serde(default)]
    pub exclude: Vec<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnitGroupPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub phrase: Option<String>,
    #[serde(default)]
    pub member_kinds: Option<Vec<UnitKind>>,
    #[serde(default)]
    pub law_enforcement_only: Option<bool>,
    #[serde(default)]
    pub include: Option<Vec<i64>>,
    #[serde(default)]
    pub exclude: Option<Vec<i64>>,
    #[serde(default, with = "super::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub note: Option<Option<String>>,
}

/// Merging a unit into another of the same county (the same organ written
/// two ways).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnitMerge {
    /// The unit that remains; the merged one's name becomes its alias.
    pub into: i64,
}

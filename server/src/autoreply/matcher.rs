//! Keyword matching, kept pure so it can be tested and benchmarked alone. Comparison is
//! Unicode case-insensitive (`to_lowercase`, so "HARGA" = "harga" and "Ü" = "ü") on trimmed
//! text; the first enabled rule by position that matches wins.

use app::model::MatchMode;

/// A rule prepared for matching: its keyword lower-cased once, when the rules are loaded.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub keyword: String,
    pub mode: MatchMode,
    pub reply: String,
    pub enabled: bool,
    pub allow_groups: bool,
}

pub use app::model::fold;

/// Whether `text` (already folded) matches `keyword` (already folded) under `mode`.
pub fn matches(mode: MatchMode, keyword: &str, text: &str) -> bool {
    mode.matches(keyword, text)
}

/// The rule that answers `text`, if any. `rules` are in position order.
pub fn first_match<'a>(rules: &'a [Rule], text: &str, in_group: bool) -> Option<&'a Rule> {
    let text = fold(text);
    rules
        .iter()
        .filter(|r| r.enabled && (r.allow_groups || !in_group))
        .find(|r| matches(r.mode, &r.keyword, &text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, keyword: &str, mode: MatchMode) -> Rule {
        Rule {
            id: id.into(),
            keyword: fold(keyword),
            mode,
            reply: format!("reply {id}"),
            enabled: true,
            allow_groups: false,
        }
    }

    #[test]
    fn each_mode_case_and_whitespace() {
        use MatchMode::*;
        assert!(matches(Exact, "harga", &fold("  HARGA ")));
        assert!(!matches(Exact, "harga", &fold("harga?")));
        assert!(matches(Contains, "harga", &fold("Berapa HARGAnya?")));
        assert!(matches(StartsWith, "menu", &fold("Menu makanan")));
        assert!(!matches(StartsWith, "menu", &fold("lihat menu")));
        assert!(matches(Word, "harga", &fold("berapa harga?")));
        assert!(matches(Word, "harga", &fold("HARGA")));
        assert!(!matches(Word, "harga", &fold("hargai saya")));
        assert!(
            matches(Word, "harga", &fold("hargai harga")),
            "a later occurrence counts"
        );
        assert!(matches(Word, "jam buka", &fold("Jam buka toko?")));
        assert!(
            matches(Exact, "über", &fold("ÜBER")),
            "Unicode case folding"
        );
        assert!(matches(Word, "café", &fold("un CAFÉ, s'il vous plaît")));
        assert!(!matches(Contains, "", "anything"));
    }

    #[test]
    fn first_enabled_match_by_position_wins_and_groups_need_permission() {
        let mut rules = vec![
            rule("a", "harga", MatchMode::Exact),
            rule("b", "harga", MatchMode::Contains),
            rule("c", "har", MatchMode::Contains),
        ];
        assert_eq!(
            first_match(&rules, "harga", false).map(|r| r.id.as_str()),
            Some("a")
        );
        assert_eq!(
            first_match(&rules, "harga?", false).map(|r| r.id.as_str()),
            Some("b")
        );
        rules[1].enabled = false;
        assert_eq!(
            first_match(&rules, "harga?", false).map(|r| r.id.as_str()),
            Some("c")
        );
        assert!(first_match(&rules, "halo", false).is_none());
        assert!(
            first_match(&rules, "harga", true).is_none(),
            "no rule allows groups"
        );
        rules[2].allow_groups = true;
        assert_eq!(
            first_match(&rules, "harga", true).map(|r| r.id.as_str()),
            Some("c")
        );
    }
}

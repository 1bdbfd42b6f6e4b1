//! The actions a registry token can grant on a repository.

/// One repository action, as ACR names it in scopes and tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Action {
    Pull,
    Push,
    MetadataWrite,
    MetadataRead,
    Delete,
}

impl Action {
    /// Every action, in the order az asks for and reports them.
    pub(crate) const ALL: [Action; 5] = [
        Action::Pull,
        Action::Push,
        Action::MetadataWrite,
        Action::MetadataRead,
        Action::Delete,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::MetadataWrite => "metadata_write",
            Action::MetadataRead => "metadata_read",
            Action::Delete => "delete",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Action> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("metadata-read"), None);
    }
}

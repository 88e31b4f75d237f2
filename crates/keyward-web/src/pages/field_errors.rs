//! Problems of a form shown next to the fields they are about (issue 15):
//! each problem names its field (the input's id), or none when it is about
//! the whole form (a wait, a busy server), which the form's alert shows. The
//! first field with a problem takes the focus (`autofocus`, so it works
//! without JavaScript); `templates/form_fields.html` draws them.

/// A form's problems, by field.
#[derive(Debug, Default)]
pub struct FieldErrors {
    items: Vec<(Option<&'static str>, String)>,
}

impl FieldErrors {
    /// No problem.
    pub fn none() -> FieldErrors {
        FieldErrors::default()
    }

    /// Problems of one field (`None`: of the whole form).
    pub fn at(field: Option<&'static str>, messages: Vec<String>) -> FieldErrors {
        FieldErrors {
            items: messages.into_iter().map(|m| (field, m)).collect(),
        }
    }

    /// Adds the problems of another field.
    pub fn and(mut self, more: FieldErrors) -> FieldErrors {
        self.items.extend(more.items);
        self
    }

    /// The problems of field `id`.
    pub fn of(&self, id: &str) -> Vec<&str> {
        self.items
            .iter()
            .filter(|(field, _)| *field == Some(id))
            .map(|(_, message)| message.as_str())
            .collect()
    }

    /// Whether field `id` has a problem.
    pub fn has(&self, id: &str) -> bool {
        self.items.iter().any(|(field, _)| *field == Some(id))
    }

    /// Whether field `id` is the first with a problem (it takes the focus).
    pub fn focus(&self, id: &str) -> bool {
        self.items.iter().find_map(|(field, _)| *field) == Some(id)
    }

    /// The problems about the whole form, for its alert.
    pub fn form(&self) -> Vec<String> {
        self.items
            .iter()
            .filter(|(field, _)| field.is_none())
            .map(|(_, message)| message.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::FieldErrors;

    #[test]
    fn each_problem_stays_with_its_field_and_the_first_field_takes_the_focus() {
        let errors = FieldErrors::at(Some("new"), vec!["short".into(), "no digit".into()])
            .and(FieldErrors::at(Some("confirm"), vec!["differs".into()]))
            .and(FieldErrors::at(None, vec!["wait".into()]));
        assert_eq!(errors.of("new"), ["short", "no digit"]);
        assert_eq!(errors.of("confirm"), ["differs"]);
        assert!(errors.of("current").is_empty() && !errors.has("current"));
        assert!(errors.focus("new") && !errors.focus("confirm"));
        assert_eq!(errors.form(), ["wait"]);
        assert!(FieldErrors::none().form().is_empty() && !FieldErrors::none().focus("new"));
    }
}

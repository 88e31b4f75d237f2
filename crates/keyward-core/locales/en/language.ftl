## Account Settings > Language (/account/language): the person's own
## choice of language for pages and emails.

language-link = Language
language-link-help = The language of your pages and emails.
language-title = Language
language-intro = Choose the language of keyward's pages and of the emails it sends you.
language-legend = Language of pages and emails
language-follow-browser = The language of my browser
language-follow-browser-now = Now: { $language }
language-save = Save
language-unknown = Choose one of the languages in the list.
language-saved = Saved. keyward now speaks to you in the language you chose.
language-back = Back to Account Settings

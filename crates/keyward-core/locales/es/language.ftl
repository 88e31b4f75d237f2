## Ajustes de la cuenta > Idioma.

language-link = Idioma
language-link-help = El idioma de tus páginas y correos.
language-title = Idioma
language-intro = Elige el idioma de las páginas de keyward y de los correos que te envía.
language-legend = Idioma de las páginas y los correos
language-follow-browser = El idioma de mi navegador
language-follow-browser-now = Ahora: { $language }
language-save = Guardar
language-unknown = Elige uno de los idiomas de la lista.
language-saved = Guardado. keyward te habla ahora en el idioma que elegiste.
language-back = Volver a Ajustes de la cuenta

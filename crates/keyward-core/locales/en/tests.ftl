## Messages only the i18n tests read (no page or email shows them): one
## that English has and no other language, and one with an argument.
test-english-only = Only in English
test-argument = Value: { $value }

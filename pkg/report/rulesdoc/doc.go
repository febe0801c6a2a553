// Package rulesdoc renders the rule registry as the Markdown reference kept
// in docs/rules.md.
//
// It is outside a run's data flow: make rules-doc renders the rules the analyses
// register when their packages load.
package rulesdoc

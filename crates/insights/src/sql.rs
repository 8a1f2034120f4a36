//! `SQL` queries: DataFusion SQL with each log group a table named after the group, whose
//! columns are the built-in fields (`@timestamp`, `@ingestionTime`, `@logStream`, `@message`,
//! `@log`). AWS quotes names with backticks (`` SELECT `@message` FROM `LogGroupA` ``); they
//! become double quotes, DataFusion's quoted identifiers.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::common::TableReference;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast::{self, visit_relations};

use crate::plan::Planned;
use crate::source::{Layout, ScanStats, table};
use crate::{GroupEvents, QueryError};

/// A checked SQL query.
#[derive(Debug, Clone)]
pub struct SqlQuery {
    /// The text with backticks turned into double quotes.
    text: String,
    /// The tables (log groups) it reads, in order of appearance.
    pub groups: Vec<String>,
}

/// Parses `text`: one SELECT statement.
pub fn compile(text: &str) -> Result<SqlQuery, QueryError> {
    let text = backticks_to_quotes(text);
    let mut statements = DFParser::parse_sql(&text).map_err(|e| QueryError::new(e.to_string()))?;
    if statements.len() != 1 {
        return Err(QueryError::new("A SQL query must be exactly one statement".to_string()));
    }
    let Some(Statement::Statement(statement)) = statements.pop_front() else {
        return Err(QueryError::new("Only SELECT queries are supported".to_string()));
    };
    if !matches!(*statement, ast::Statement::Query(_)) {
        return Err(QueryError::new("Only SELECT queries are supported".to_string()));
    }
    let groups = relations(&statement);
    Ok(SqlQuery { text, groups })
}

/// The names of the tables a statement reads (the last part of each name).
fn relations(statement: &ast::Statement) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let _ = visit_relations(statement, |relation: &ast::ObjectName| {
        let name = relation.0.last().and_then(|part| part.as_ident()).map(|ident| ident.value.clone());
        if let Some(name) = name.filter(|n| !names.contains(n)) {
            names.push(name);
        }
        ControlFlow::<()>::Continue(())
    });
    names
}

/// `text` with every backtick outside string literals replaced by a double quote (and double
/// quotes inside backticks doubled).
fn backticks_to_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (None, '`') => {
                quote = Some('`');
                out.push('"');
            }
            (Some('`'), '`') => {
                quote = None;
                out.push('"');
            }
            (Some('`'), '"') => out.push_str("\"\""),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (_, c) => out.push(c),
        }
    }
    out
}

/// Registers the groups as tables and plans the query over them.
pub async fn plan(
    ctx: &SessionContext,
    query: &SqlQuery,
    groups: Vec<GroupEvents>,
    stats: &Arc<ScanStats>,
    limit: usize,
) -> Result<Planned> {
    for group in groups {
        let name = group.name.clone();
        ctx.register_table(TableReference::bare(name), table(vec![group], Layout { log: true, row: false }, stats)?)?;
    }
    let frame = ctx.sql(&query.text).await?.limit(0, Some(limit.max(1)))?;
    let columns = frame.schema().fields().iter().map(|f| f.name().clone()).collect();
    Ok(Planned { frame, columns, with_ptr: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(
            backticks_to_quotes("SELECT `@message` FROM `A` WHERE x = 'it''s `x`'"),
            "SELECT \"@message\" FROM \"A\" WHERE x = 'it''s `x`'"
        );
    }

    #[test]
    fn groups() {
        let q = compile("SELECT a.`@message` FROM `LogGroupA` a JOIN `LogGroupB` b ON a.`@logStream` = b.`@logStream`").unwrap();
        assert_eq!(q.groups, vec!["LogGroupA", "LogGroupB"]);
        assert!(compile("DROP TABLE x").is_err());
        assert!(compile("SELEC 1").is_err());
    }
}

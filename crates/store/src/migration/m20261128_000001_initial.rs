//! Indicator frameworks (versioned), their nodes, responsible units, aliases, group
//! membership, responsibility assignments and import diagnostics.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Framework::Table)
                    .col(big_pk_auto(Framework::Id))
                    .col(text(Framework::Title))
                    .col(text(Framework::SourceName))
                    .col(string_len(Framework::SourceSha256, 64))
                    .col(timestamp_with_time_zone(Framework::ImportedAt))
                    .col(boolean(Framework::IsCurrent).default(false))
                    .col(text_null(Framework::Note))
                    .to_owned(),
            )
            .await?;
        // At most one current version. A partial unique index reads the same on SQLite
        // and PostgreSQL; sea-query has no builder for the WHERE clause.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_framework_current ON framework (is_current) WHERE is_current",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FrameworkNode::Table)
                    .col(big_pk_auto(FrameworkNode::Id))
                    .col(big_integer(FrameworkNode::FrameworkId))
                    .col(big_integer_null(FrameworkNode::ParentId))
                    .col(integer(FrameworkNode::Position))
                    .col(integer(FrameworkNode::DocOrder))
                    .col(integer(FrameworkNode::Depth))
                    .col(text(FrameworkNode::Code))
                    .col(text(FrameworkNode::Title))
                    .col(boolean(FrameworkNode::IsLeaf))
                    .col(integer_null(FrameworkNode::SourceLine))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_framework_node_framework")
                            .from(FrameworkNode::Table, FrameworkNode::FrameworkId)
                            .to(Framework::Table, Framework::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_framework_node_parent")
                            .from(FrameworkNode::Table, FrameworkNode::ParentId)
                            .to(FrameworkNode::Table, FrameworkNode::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_framework_node_order",
                FrameworkNode::Table,
                vec![FrameworkNode::FrameworkId, FrameworkNode::DocOrder],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_framework_node_parent",
                FrameworkNode::Table,
                vec![FrameworkNode::ParentId],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Unit::Table)
                    .col(big_pk_auto(Unit::Id))
                    .col(text(Unit::Name))
                    .col(string_len(Unit::Kind, 32))
                    .col(boolean(Unit::Disabled).default(false))
                    .col(timestamp_with_time_zone(Unit::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("ux_unit_name", Unit::Table, vec![Unit::Name], true))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UnitAlias::Table)
                    .col(big_pk_auto(UnitAlias::Id))
                    .col(big_integer(UnitAlias::UnitId))
                    .col(text(UnitAlias::Alias))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_unit_alias_unit")
                            .from(UnitAlias::Table, UnitAlias::UnitId)
                            .to(Unit::Table, Unit::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_unit_alias_alias",
                UnitAlias::Table,
                vec![UnitAlias::Alias],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_unit_alias_unit",
                UnitAlias::Table,
                vec![UnitAlias::UnitId],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(GroupMember::Table)
                    .col(big_integer(GroupMember::GroupUnitId))
                    .col(big_integer(GroupMember::MemberUnitId))
                    .primary_key(
                        Index::create()
                            .col(GroupMember::GroupUnitId)
                            .col(GroupMember::MemberUnitId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_member_group")
                            .from(GroupMember::Table, GroupMember::GroupUnitId)
                            .to(Unit::Table, Unit::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_member_member")
                            .from(GroupMember::Table, GroupMember::MemberUnitId)
                            .to(Unit::Table, Unit::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_group_member_member",
                GroupMember::Table,
                vec![GroupMember::MemberUnitId],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Assignment::Table)
                    .col(big_pk_auto(Assignment::Id))
                    .col(big_integer(Assignment::NodeId))
                    .col(big_integer(Assignment::UnitId))
                    .col(string_len(Assignment::Role, 16))
                    .col(integer(Assignment::Position))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assignment_node")
                            .from(Assignment::Table, Assignment::NodeId)
                            .to(FrameworkNode::Table, FrameworkNode::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assignment_unit")
                            .from(Assignment::Table, Assignment::UnitId)
                            .to(Unit::Table, Unit::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_assignment_node_unit",
                Assignment::Table,
                vec![Assignment::NodeId, Assignment::UnitId],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_assignment_unit",
                Assignment::Table,
                vec![Assignment::UnitId],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ImportDiagnostic::Table)
                    .col(big_pk_auto(ImportDiagnostic::Id))
                    .col(big_integer(ImportDiagnostic::FrameworkId))
                    .col(integer(ImportDiagnostic::Position))
                    .col(string_len(ImportDiagnostic::Severity, 16))
                    .col(string_len(ImportDiagnostic::Kind, 64))
                    .col(text_null(ImportDiagnostic::Indicator))
                    .col(integer_null(ImportDiagnostic::Line))
                    .col(text(ImportDiagnostic::Message))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_import_diagnostic_framework")
                            .from(ImportDiagnostic::Table, ImportDiagnostic::FrameworkId)
                            .to(Framework::Table, Framework::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_import_diagnostic_framework",
                ImportDiagnostic::Table,
                vec![ImportDiagnostic::FrameworkId, ImportDiagnostic::Position],
                false,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ImportDiagnostic::Table.into_iden(),
            Assignment::Table.into_iden(),
            GroupMember::Table.into_iden(),
            UnitAlias::Table.into_iden(),
            Unit::Table.into_iden(),
            FrameworkNode::Table.into_iden(),
            Framework::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub(crate) enum Framework {
    Table,
    Id,
    Title,
    SourceName,
    #[sea_orm(iden = "source_sha256")]
    SourceSha256,
    ImportedAt,
    IsCurrent,
    Note,
}

#[derive(DeriveIden)]
enum FrameworkNode {
    Table,
    Id,
    FrameworkId,
    ParentId,
    Position,
    DocOrder,
    Depth,
    Code,
    Title,
    IsLeaf,
    SourceLine,
}

#[derive(DeriveIden)]
pub(crate) enum Unit {
    Table,
    Id,
    Name,
    Kind,
    Disabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UnitAlias {
    Table,
    Id,
    UnitId,
    Alias,
}

#[derive(DeriveIden)]
enum GroupMember {
    Table,
    GroupUnitId,
    MemberUnitId,
}

#[derive(DeriveIden)]
enum Assignment {
    Table,
    Id,
    NodeId,
    UnitId,
    Role,
    Position,
}

#[derive(DeriveIden)]
enum ImportDiagnostic {
    Table,
    Id,
    FrameworkId,
    Position,
    Severity,
    Kind,
    Indicator,
    Line,
    Message,
}

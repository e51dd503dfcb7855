{#- Spark: a table model is built beside the old table and swapped in by name only after it succeeded.
    dbt-spark's own table materialization drops a Parquet table before it builds the replacement, so a model
    that failed left no table at all. Delta and Iceberg tables already `create or replace` atomically and keep
    dbt-spark's path. Python models never reach Spark (dbt_project.yml &python_step). -#}
{% materialization table, adapter='spark', supported_languages=['sql'] %}
  {%- set identifier = model['alias'] -%}
  {%- set file_format = config.get('file_format', validator=validation.any[basestring]) -%}
  {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
  {%- set target_relation = api.Relation.create(
      identifier=identifier, schema=schema, database=database, type='table') -%}
  {%- set in_place = old_relation is not none and (
      (old_relation.is_delta and file_format == 'delta') or (old_relation.is_iceberg and file_format == 'iceberg')) -%}
  {%- set build_relation = target_relation if in_place or old_relation is none
      else target_relation.incorporate(path={'identifier': identifier ~ '__churn_new'}) -%}

  {{ run_hooks(pre_hooks) }}
  {%- if build_relation != target_relation -%}
    {{ adapter.drop_relation(build_relation) }}
  {%- endif -%}
  {%- call statement('main') -%}
    {{ create_table_as(False, build_relation, compiled_code) }}
  {%- endcall -%}
  {%- if build_relation != target_relation -%}
    {{ adapter.drop_relation(old_relation) }}
    {{ adapter.rename_relation(build_relation, target_relation) }}
  {%- endif -%}

  {% do apply_grants(target_relation, config.get('grants'), should_revoke(old_relation, full_refresh_mode=True)) %}
  {% do persist_docs(target_relation, model) %}
  {% do persist_constraints(target_relation, model) %}
  {{ run_hooks(post_hooks) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{# Count and spend over the transactions in [ts - width, ts]: the current one, others at the same instant and one exactly width earlier included. #}
{% macro rolling_count_and_spend(partition, time_column, width, suffix) -%}
  count(*) over ({{ rolling_window(partition, time_column, width) }}) as txn_count_{{ suffix }},
  sum(amount) over ({{ rolling_window(partition, time_column, width) }}) as spend_{{ suffix }}
{%- endmacro %}

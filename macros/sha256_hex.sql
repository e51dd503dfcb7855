{#- The SHA-256 of a text expression as 64 lower-case hex characters, the same on every engine. -#}
{% macro sha256_hex(expr) %}
    {{ return(adapter.dispatch('sha256_hex')(expr)) }}
{% endmacro %}

{% macro default__sha256_hex(expr) %}
    {{ return('sha256(' ~ expr ~ ')') }}
{% endmacro %}

{% macro postgres__sha256_hex(expr) %}
    {{ return("encode(sha256(convert_to(" ~ expr ~ ", 'UTF8')), 'hex')") }}
{% endmacro %}

{% macro spark__sha256_hex(expr) %}
    {{ return('sha2(' ~ expr ~ ', 256)') }}
{% endmacro %}

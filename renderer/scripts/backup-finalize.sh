# em-guard backup-finalize: last step of the backup Job. It checks what the earlier steps
# staged, seals it with SHA256SUMS and a MANIFEST, publishes it under its final name with one
# rename, and applies retention. Runs after lib.sh, in the postgres image (pg_restore).
# Env: EMG_BACKUP_ROOT, EMG_BACKUP_DIR (staging dir, directly inside the root and named
# .partial-<id>), EMG_RUN_ID, EMG_RELEASE, EMG_NAMESPACE (required); EMG_KEEP (number of
# completed runs to keep, default 5).
# The MANIFEST it writes lists every file with its size, the total (bytes:) and, for each
# PostgreSQL dump, the database's exact name (from postgresql/databases.tsv).

emg_require EMG_BACKUP_ROOT EMG_BACKUP_DIR EMG_RUN_ID EMG_RELEASE EMG_NAMESPACE
emg_uint EMG_KEEP 5
[ "$EMG_KEEP" -ge 1 ] || emg_fail "EMG_KEEP must be at least 1, or retention would delete this run"
case $EMG_RUN_ID in
  .* | *[!A-Za-z0-9_.-]*) emg_fail "invalid EMG_RUN_ID '$EMG_RUN_ID' (allowed: letters, digits, _ . -)" ;;
esac
emg_staging_dirs
[ -d "$emg_stage" ] ||
  emg_fail "staging directory $emg_stage does not exist; the backup steps did not write anything"

umask 077
emg_tmp_init
# Byte order for sort and globs, so checksums and retention do not depend on the locale.
LC_ALL=C
export LC_ALL
cd "$emg_stage" || emg_fail "cannot enter $emg_stage"
# A retried Job may find the seal of an earlier attempt; it is rebuilt from the data.
rm -f SHA256SUMS MANIFEST

find . -type f | sed 's#^\./##' | sort >"$EMG_TMP/files"
[ -s "$EMG_TMP/files" ] ||
  emg_fail "staging directory $emg_stage holds no files; refusing to publish an empty backup"
emg_empty=$(find . -type f -size 0 | sed 's#^\./##' | sort | tr '\n' ' ')
[ -z "$emg_empty" ] || emg_fail "empty file(s) in $emg_stage: ${emg_empty% }; a backup step failed"

# Re-check what can be checked here: a dump damaged between its step and now must not be
# published as a good backup.
emg_count=0
emg_bytes=0
while IFS= read -r emg_f; do
  case $emg_f in
    *.dump)
      emg_pg_verify_dump "$emg_f" "backup $emg_stage"
      emg_log "verified $emg_f ($EMG_DUMP_ENTRIES archive entries)"
      ;;
    *.rdb)
      [ "$(head -c 5 "$emg_f")" = REDIS ] ||
        emg_fail "backup $emg_stage: $emg_f is not an RDB file (it does not start with REDIS)"
      ;;
  esac
  emg_count=$((emg_count + 1))
  emg_bytes=$((emg_bytes + $(emg_size "$emg_f")))
done <"$EMG_TMP/files"

# The PostgreSQL step's index names the database behind each dump (a file name is only a safe
# encoding of it). Every dump must be in it once, and everything in it must be there.
emg_tab=$(printf '\t')
: >"$EMG_TMP/databases"
if [ -d postgresql ]; then
  emg_index=postgresql/databases.tsv
  [ -f "$emg_index" ] ||
    emg_fail "backup $emg_stage: $emg_index is missing, so the dumps cannot be matched to their databases; the PostgreSQL step did not finish"
  emg_bad=$(awk -F "$emg_tab" '/^#/ { next }
    NF != 2 || $1 !~ /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.dump$/ || $2 == "" { print NR; exit }' \
    "$emg_index")
  [ -z "$emg_bad" ] ||
    emg_fail "backup $emg_stage: line $emg_bad of $emg_index is not <file><tab><database>"
  grep -v '^#' "$emg_index" >"$EMG_TMP/databases"
  cut -f1 "$EMG_TMP/databases" | sort >"$EMG_TMP/indexed"
  emg_twice=$(uniq -d "$EMG_TMP/indexed" | head -n 1)
  [ -z "$emg_twice" ] || emg_fail "backup $emg_stage: $emg_index lists $emg_twice twice"
  while IFS= read -r emg_f; do
    grep -Fxq -e "postgresql/$emg_f" "$EMG_TMP/files" ||
      emg_fail "backup $emg_stage: $emg_index lists postgresql/$emg_f, which is not there"
  done <"$EMG_TMP/indexed"
  sed -n 's#^postgresql/\([^/]*\.dump\)$#\1#p' "$EMG_TMP/files" | while IFS= read -r emg_f; do
    grep -Fxq -e "$emg_f" "$EMG_TMP/indexed" || {
      printf '%s\n' "$emg_f"
      break
    }
  done >"$EMG_TMP/unindexed"
  [ ! -s "$EMG_TMP/unindexed" ] ||
    emg_fail "backup $emg_stage: postgresql/$(head -n 1 "$EMG_TMP/unindexed") is not in $emg_index, so its database is unknown"
fi

emg_stamp=$(date -u +%Y%m%dT%H%M%SZ)
emg_created=$(printf '%s\n' "$emg_stamp" |
  sed 's/^\(....\)\(..\)\(..\)T\(..\)\(..\)\(..\)Z$/\1-\2-\3T\4:\5:\6Z/')
emg_final=$emg_root/$emg_stamp-$EMG_RUN_ID
[ ! -e "$emg_final" ] || emg_fail "$emg_final already exists; not overwriting a completed backup"

{
  printf 'em-guard backup\n'
  printf 'release: %s\n' "$EMG_RELEASE"
  printf 'namespace: %s\n' "$EMG_NAMESPACE"
  printf 'run-id: %s\n' "$EMG_RUN_ID"
  printf 'created: %s\n' "$emg_created"
  printf 'directory: %s\n' "${emg_final##*/}"
  # The next run's backup-prepare reads this to tell how much space a backup takes.
  printf 'bytes: %s\n' "$emg_bytes"
  if [ -d postgresql ]; then
    printf 'databases: # dump file, then the exact database name'
    printf ' (\\\\ is a backslash, \\t a tab, \\n a newline, \\r a carriage return)\n'
    while IFS="$emg_tab" read -r emg_f emg_name; do
      printf '  postgresql/%s %s\n' "$emg_f" "$emg_name"
    done <"$EMG_TMP/databases"
  fi
  printf 'files: # bytes path\n'
  while IFS= read -r emg_f; do
    printf '  %s %s\n' "$(emg_size "$emg_f")" "$emg_f"
  done <"$EMG_TMP/files"
} >MANIFEST || emg_fail "cannot write $emg_stage/MANIFEST"

# The MANIFEST is checksummed too, so the whole directory can be verified with one command.
{
  cat "$EMG_TMP/files"
  printf 'MANIFEST\n'
} | sort | while IFS= read -r emg_f; do
  sha256sum "$emg_f" || exit 1
done >SHA256SUMS || emg_fail "cannot compute checksums in $emg_stage"
sha256sum -c SHA256SUMS >"$EMG_TMP/check" 2>&1 ||
  emg_fail "SHA256SUMS does not verify in $emg_stage: $(emg_oneline "$(grep -v ': OK$' "$EMG_TMP/check")")"
emg_log "checksums of $((emg_count + 1)) files written to SHA256SUMS and verified"

# Data must be on disk before the rename makes the run look complete.
sync
cd / || emg_fail "cannot leave $emg_stage"
mv -- "$emg_stage" "$emg_final" || emg_fail "cannot rename $emg_stage to $emg_final"
emg_log "published $emg_count files ($emg_bytes bytes) for release $EMG_RELEASE in namespace $EMG_NAMESPACE"

# Retention: completed runs sort by name in time order, oldest first. The run just made is
# never removed, even if a skewed clock made it sort early.
emg_pattern='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z-*'
emg_runs=0
for emg_d in "$emg_root"/$emg_pattern; do
  [ -d "$emg_d" ] && emg_runs=$((emg_runs + 1))
done
emg_excess=$((emg_runs - EMG_KEEP))
for emg_d in "$emg_root"/$emg_pattern; do
  [ "$emg_excess" -gt 0 ] || break
  [ -d "$emg_d" ] || continue
  emg_excess=$((emg_excess - 1))
  [ "$emg_d" != "$emg_final" ] || continue
  if rm -rf -- "$emg_d"; then
    emg_log "removed old backup ${emg_d##*/} (keeping the newest $EMG_KEEP)"
  else
    emg_warn "could not remove old backup $emg_d"
  fi
done

# Staging dirs of runs that died. One touched within the last hour may belong to a backup
# running right now (a long pg_dump keeps its file's mtime fresh), so it is left alone.
for emg_d in "$emg_root"/.partial-*; do
  [ -d "$emg_d" ] || continue
  if [ -n "$(find "$emg_d" -mmin -60 2>/dev/null | head -n 1)" ]; then
    emg_log "left staging dir ${emg_d##*/} alone: it changed within the last hour"
  elif rm -rf -- "$emg_d"; then
    emg_log "removed stale staging dir ${emg_d##*/}"
  else
    emg_warn "could not remove stale staging dir $emg_d"
  fi
done

# What this run took tells whether the next one fits; backup-prepare makes room then, but a
# volume that only fits by deleting backups is too small for backup.keep.
emg_used=$(emg_du_kib "$emg_final")
if emg_free=$(emg_free_kib "$emg_root"); then
  emg_log "this backup takes $(emg_human "$emg_used") on the backup volume; $(emg_human "$emg_free") free"
  emg_need=$(emg_need_kib "$emg_used")
  if [ "$emg_free" -lt "$emg_need" ]; then
    emg_warn "the next backup needs about $(emg_human "$emg_need") but only $(emg_human "$emg_free") are free; it will remove older backups to make room. With backup.keep: $EMG_KEEP the volume needs about $(emg_human $((emg_need * (EMG_KEEP + 1)))): increase backup.storage.size or lower backup.keep"
  fi
else
  emg_log "this backup takes $(emg_human "$emg_used") on the backup volume"
fi
emg_log "backup stored at $emg_final"

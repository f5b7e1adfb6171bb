# em-guard backup-prepare: first step of the backup Job. It clears what failed runs left on the
# volume and makes room for this run, so that a full disk or a crashed run never blocks the
# next backup and nobody has to clean the volume by hand. Runs after lib.sh.
# Env: EMG_BACKUP_ROOT, EMG_BACKUP_DIR (this run's staging dir, directly inside the root and
# named .partial-<id>), EMG_RUN_ID (required); EMG_KEEP (completed runs kept, default 5; named
# in the advice when the volume is too small).

emg_require EMG_BACKUP_ROOT EMG_BACKUP_DIR EMG_RUN_ID
emg_uint EMG_KEEP 5
emg_staging_dirs
[ -d "$emg_root" ] || emg_fail "backup volume $emg_root is not mounted"
umask 077
emg_tmp_init
# Byte order for globs, so "oldest first" does not depend on the locale.
LC_ALL=C
export LC_ALL

# Only one backup of a release matters at a time: a newer Job supersedes an older one, so
# every staging directory is the leftover of a run that failed or was replaced, this run's
# own included (an earlier attempt of this Job). They hold space the new run may need, and
# how much they hold says how big a backup has become: a run that died of a full volume had
# written at least that much.
emg_failed_kib=0
for emg_d in "$emg_root"/.partial-*; do
  [ -d "$emg_d" ] || continue
  emg_kib=$(emg_du_kib "$emg_d")
  [ "$emg_kib" -le "$emg_failed_kib" ] || emg_failed_kib=$emg_kib
  if [ "$emg_d" = "$emg_stage" ]; then
    emg_what="an earlier attempt of this run"
  else
    emg_what="a backup run that did not complete"
  fi
  rm -rf -- "$emg_d" 2>"$EMG_TMP/err" ||
    emg_fail "cannot remove ${emg_d##*/}, left by $emg_what: $(emg_oneline_file "$EMG_TMP/err")"
  emg_log "removed ${emg_d##*/} ($(emg_human "$emg_kib")), left by $emg_what"
done

# Completed runs sort by name in time order, oldest first.
emg_pattern='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z-*'
emg_runs=0
emg_newest=
for emg_d in "$emg_root"/$emg_pattern; do
  [ -d "$emg_d" ] || continue
  emg_runs=$((emg_runs + 1))
  emg_newest=$emg_d
done

# The space this run needs: what the newest completed run took (its MANIFEST has the byte
# count), or what a failed run had written if that is more, plus room to grow.
emg_last_kib=0
if [ -n "$emg_newest" ]; then
  emg_bytes=$(sed -n 's/^bytes: \([0-9][0-9]*\)$/\1/p' "$emg_newest/MANIFEST" 2>/dev/null | head -n 1)
  if [ -n "$emg_bytes" ]; then
    emg_last_kib=$(((emg_bytes + 1023) / 1024))
  else
    emg_last_kib=$(emg_du_kib "$emg_newest")
  fi
fi
if [ "$emg_failed_kib" -gt "$emg_last_kib" ]; then
  emg_base=$emg_failed_kib
  emg_basis="a failed run had written $(emg_human "$emg_failed_kib")"
elif [ -n "$emg_newest" ]; then
  emg_base=$emg_last_kib
  emg_basis="the newest backup, ${emg_newest##*/}, took $(emg_human "$emg_last_kib")"
else
  emg_base=0
fi

if [ "$emg_base" -eq 0 ]; then
  emg_log "no earlier backup on $emg_root to estimate the space a backup needs; not checking it"
elif ! emg_free=$(emg_free_kib "$emg_root"); then
  emg_warn "df cannot tell the free space on $emg_root; not checking it"
else
  emg_need=$(emg_need_kib "$emg_base")
  emg_pruned=0
  # Make room by removing the oldest completed runs, but never the newest: until this run
  # is published it is the only good backup there is.
  for emg_d in "$emg_root"/$emg_pattern; do
    [ "$emg_free" -lt "$emg_need" ] || break
    [ -d "$emg_d" ] || continue
    [ "$emg_d" != "$emg_newest" ] || break
    emg_kib=$(emg_du_kib "$emg_d")
    rm -rf -- "$emg_d" 2>"$EMG_TMP/err" ||
      emg_fail "cannot remove old backup ${emg_d##*/} to make room: $(emg_oneline_file "$EMG_TMP/err")"
    emg_log "removed old backup ${emg_d##*/} ($(emg_human "$emg_kib")) to make room: this run needs about $(emg_human "$emg_need"), $(emg_human "$emg_free") were free"
    emg_pruned=$((emg_pruned + 1))
    emg_free=$(emg_free_kib "$emg_root") || emg_fail "df cannot tell the free space on $emg_root"
  done
  emg_advice="with backup.keep: $EMG_KEEP the volume needs about $(emg_human $((emg_need * (EMG_KEEP + 1)))) (backup.keep backups and the one being written): increase backup.storage.size or lower backup.keep"
  if [ "$emg_free" -lt "$emg_need" ]; then
    emg_fail "not enough space on the backup volume $emg_root: this run needs about $(emg_human "$emg_need") ($emg_basis), but only $(emg_human "$emg_free") are free even after removing every older backup but the newest; $emg_advice"
  fi
  emg_log "$(emg_human "$emg_free") free on $emg_root; this run needs about $(emg_human "$emg_need") ($emg_basis)"
  if [ "$emg_pruned" -gt 0 ] && [ $((emg_runs - emg_pruned + 1)) -lt "$EMG_KEEP" ]; then
    emg_warn "removed $emg_pruned old backup(s) to make room, so fewer than backup.keep ($EMG_KEEP) backups are kept; $emg_advice"
  fi
fi

mkdir -- "$emg_stage" 2>"$EMG_TMP/err" ||
  emg_fail "cannot create $emg_stage: $(emg_oneline_file "$EMG_TMP/err")"
emg_log "backup volume $emg_root is ready; this run writes to ${emg_stage##*/}"

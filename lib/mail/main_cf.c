/* placeholder: main_cf is being written */
